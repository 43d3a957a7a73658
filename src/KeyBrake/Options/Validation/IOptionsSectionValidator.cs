namespace KeyBrake;

/// <summary>
/// The rules of one section of <see cref="KeyBrakeOptions"/> (YARP's <c>IRouteValidator</c> shape). Each is registered
/// on its own; <see cref="KeyBrakeOptionsValidator"/> runs them all and lists every error at once.
/// </summary>
internal interface IOptionsSectionValidator
{
    /// <summary>Adds one message per broken rule, each starting with the configuration key it is about.</summary>
    void Validate(KeyBrakeOptions options, ICollection<string> errors);
}
