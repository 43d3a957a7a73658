using KeyBrake.Spend;

namespace KeyBrake.Proxy;

/// <summary>
/// SPEC §4 step 7 and §7, as the proxy sees it. <see cref="RecordRequestAsync"/> returns only once the entry is
/// durable; false (or a throw) makes the call 503 <c>audit_unavailable</c>. The other two queue their entry without
/// waiting for its commit, but wait for room in the queue (back-pressure, never loss).
/// </summary>
internal interface IProxyAuditTrail
{
    ValueTask<bool> RecordRequestAsync(HttpContext context, ProxyCall call, CancellationToken cancellationToken);

    ValueTask RecordResponseAsync(HttpContext context, ProxyCall call, MicroUsd settled, string outcome);

    ValueTask RecordDeniedAsync(HttpContext context, ProxyCall call, KeyBrakeError error);
}

/// <summary>Records nothing and accepts everything: for the benchmark's "no audit" variant (bench/), never shipped as a choice.</summary>
internal sealed class NoProxyAuditTrail : IProxyAuditTrail
{
    public ValueTask<bool> RecordRequestAsync(HttpContext context, ProxyCall call, CancellationToken cancellationToken) => ValueTask.FromResult(true);

    public ValueTask RecordResponseAsync(HttpContext context, ProxyCall call, MicroUsd settled, string outcome) => ValueTask.CompletedTask;

    public ValueTask RecordDeniedAsync(HttpContext context, ProxyCall call, KeyBrakeError error) => ValueTask.CompletedTask;
}
