namespace KeyBrake;

/// <summary>
/// <c>KeyBrake:DataDirectory</c> and <c>KeyBrake:Storage</c> (SPEC §2, §9): a provider this version has; the data
/// directory and the database path, when set, name a path; MinFreeBytes 0 turns the free-space check off.
/// </summary>
internal sealed class StorageOptionsValidator : IOptionsSectionValidator
{
    public void Validate(KeyBrakeOptions options, ICollection<string> errors)
    {
        if (options.Storage.Provider == StorageOptions.PostgresProvider)
        {
            errors.Add("KeyBrake:Storage:Provider: 'Postgres' is not available in this version of KeyBrake (SPEC §9; it arrives with replicas); use Sqlite.");
        }
        else if (options.Storage.Provider != StorageOptions.SqliteProvider)
        {
            errors.Add($"KeyBrake:Storage:Provider: '{options.Storage.Provider}' must be Sqlite or Postgres.");
        }
        foreach (var (key, path) in new[] { ("KeyBrake:DataDirectory", options.DataDirectory), ("KeyBrake:Storage:Sqlite:Path", options.Storage.Sqlite.Path) })
        {
            if (path is not null && (string.IsNullOrWhiteSpace(path) || path.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0))
            {
                errors.Add($"{key}: '{path}' must be a path (absolute, or relative to the working directory).");
            }
        }
        if (options.Storage.MinFreeBytes < 0)
        {
            errors.Add($"KeyBrake:Storage:MinFreeBytes: {options.Storage.MinFreeBytes} must be 0 (no check) or more bytes.");
        }
    }
}
