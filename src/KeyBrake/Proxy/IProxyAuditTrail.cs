using KeyBrake.Audit;
using KeyBrake.Spend;

namespace KeyBrake.Proxy;

/// <summary>
/// SPEC §4 step 7 and §7, as the proxy sees it. <see cref="RecordRequestAsync"/> returns only once the entry is
/// durable; <see cref="AppendResult.NotCommitted"/> (or a throw) makes the call 503 <c>audit_unavailable</c>, and
/// <see cref="AppendResult.KeyRevoked"/> / <see cref="AppendResult.KeyExpired"/> (the key's revocation was sealed
/// first) 401 <c>key_revoked</c> / <c>key_expired</c>. The other two queue their entry without
/// waiting for its commit, but wait for room in the queue (back-pressure, never loss).
/// </summary>
internal interface IProxyAuditTrail
{
    ValueTask<AppendResult> RecordRequestAsync(HttpContext context, ProxyCall call, CancellationToken cancellationToken);

    ValueTask RecordResponseAsync(HttpContext context, ProxyCall call, MicroUsd settled, string outcome);

    ValueTask RecordDeniedAsync(HttpContext context, ProxyCall call, KeyBrakeError error);
}
