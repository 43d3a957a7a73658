namespace KeyBrake.Storage;

/// <summary>A copy between stores that must not go ahead (SPEC §9): the message says why, for the operator.</summary>
public sealed class StoreCopyRefusedException(string message) : Exception(message);
