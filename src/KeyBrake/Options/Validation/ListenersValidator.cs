namespace KeyBrake;

/// <summary>
/// <c>Kestrel:Endpoints:*:Url</c> and <c>KeyBrake:Vendors:{vendor}:Port</c> (SPEC §1–§2): what <see cref="ListenerMap"/>
/// found wrong while the host was being built, listed with every other error instead of thrown from the builder.
/// </summary>
internal sealed class ListenersValidator(ListenerMap listeners) : IOptionsSectionValidator
{
    public void Validate(KeyBrakeOptions options, ICollection<string> errors)
    {
        foreach (var problem in listeners.Problems)
        {
            errors.Add(problem);
        }
    }
}
