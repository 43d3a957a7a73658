namespace KeyBrake.Audit;

/// <summary>The audit log cannot take an entry now (queue full past the time-out, writer stopped, database failing).</summary>
public sealed class AuditUnavailableException(string message) : Exception(message);
