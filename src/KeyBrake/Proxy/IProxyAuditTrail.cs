namespace KeyBrake.Proxy;

/// <summary>
/// SPEC §4 step 7 and §7: the audit issue fills this with the hash-chained writer. <see cref="RecordRequestAsync"/>
/// must return only once the entry is durable; false (or a throw) makes the call 503 <c>audit_unavailable</c>.
/// </summary>
internal interface IProxyAuditTrail
{
    ValueTask<bool> RecordRequestAsync(HttpContext context, ProxyCall call, CancellationToken cancellationToken);

    void RecordResponse(HttpContext context, ProxyCall call);

    void RecordDenied(HttpContext context, ProxyCall call, KeyBrakeError error);
}

/// <summary>Placeholder until the audit log lands: records nothing, accepts everything.</summary>
internal sealed class NoProxyAuditTrail : IProxyAuditTrail
{
    public ValueTask<bool> RecordRequestAsync(HttpContext context, ProxyCall call, CancellationToken cancellationToken) => ValueTask.FromResult(true);

    public void RecordResponse(HttpContext context, ProxyCall call)
    {
    }

    public void RecordDenied(HttpContext context, ProxyCall call, KeyBrakeError error)
    {
    }
}
