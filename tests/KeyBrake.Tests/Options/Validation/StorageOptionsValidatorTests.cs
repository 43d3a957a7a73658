namespace KeyBrake.Tests;

public sealed class StorageOptionsValidatorTests
{
    private static readonly StorageOptionsValidator Validator = new();

    [Fact]
    public void Validate_Defaults_NoError() => Assert.Empty(Validator.Errors(new KeyBrakeOptions()));

    [Fact]
    public void Validate_BlankPaths_AreErrors() =>
        Assert.Equal(
            [
                "KeyBrake:DataDirectory: ' ' must be a path (absolute, or relative to the working directory).",
                "KeyBrake:Storage:Sqlite:Path: '' must be a path (absolute, or relative to the working directory).",
            ],
            Validator.Errors(new KeyBrakeOptions { DataDirectory = " ", Storage = new() { Sqlite = new() { Path = "" } } }));

    [Theory]
    [InlineData(0L, false)]
    [InlineData(-1L, true)]
    public void Validate_MinFreeBytes_ZeroOrMore(long bytes, bool error) =>
        Assert.Equal(error ? [$"KeyBrake:Storage:MinFreeBytes: {bytes} must be 0 (no check) or more bytes."] : [],
            Validator.Errors(new KeyBrakeOptions { Storage = new() { MinFreeBytes = bytes } }));
}
