using KeyBrake.Audit;
using KeyBrake.Proxy;
using KeyBrake.Spend;

namespace KeyBrake.Bench;

/// <summary>
/// Records nothing and accepts everything: the G0 variant (KeyBrake with a no-op audit trail), which prices the audit
/// log against G. Bench-only (it reaches KeyBrake's internals through InternalsVisibleTo); never shipped as a choice.
/// On SQLite only: on PostgreSQL a call's reservation is decided with its proxy.request, so without the trail nothing
/// would be reserved (run.sh has no G0 on PostgreSQL).
/// </summary>
internal sealed class NoProxyAuditTrail : IProxyAuditTrail
{
    public ValueTask<AppendResult> RecordRequestAsync(HttpContext context, ProxyCall call, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AppendResult.Committed);

    public ValueTask RecordResponseAsync(HttpContext context, ProxyCall call, MicroUsd settled, string outcome) => ValueTask.CompletedTask;

    public ValueTask RecordDeniedAsync(HttpContext context, ProxyCall call, KeyBrakeError error) => ValueTask.CompletedTask;
}
