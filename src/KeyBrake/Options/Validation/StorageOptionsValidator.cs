namespace KeyBrake;

/// <summary>
/// <c>KeyBrake:DataDirectory</c> and <c>KeyBrake:Storage</c> (SPEC §2, §9): Sqlite or Postgres, the latter with a
/// connection string; the data directory and the database path, when set, name a path; MinFreeBytes 0 turns the
/// free-space check off.
/// </summary>
internal sealed class StorageOptionsValidator : IOptionsSectionValidator
{
    public void Validate(KeyBrakeOptions options, ICollection<string> errors)
    {
        if (options.Storage.Provider == StorageOptions.PostgresProvider)
        {
            ValidatePostgres(options.Storage.Postgres, errors);
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

    private static void ValidatePostgres(PostgresStorageOptions postgres, ICollection<string> errors)
    {
        DurationRanges.Validate("KeyBrake:Storage:Postgres", postgres, errors);
        if (string.IsNullOrWhiteSpace(postgres.ConnectionString))
        {
            errors.Add("KeyBrake:Storage:Postgres:ConnectionString: required when KeyBrake:Storage:Provider is Postgres (e.g. Host=db;Database=keybrake;Username=keybrake).");
            return;
        }
        try
        {
            _ = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = postgres.ConnectionString };
        }
        catch (ArgumentException)
        {
            // The value is not echoed: it may hold a password.
            errors.Add("KeyBrake:Storage:Postgres:ConnectionString: is not a connection string (key=value pairs separated by ';').");
        }
        if (postgres.PasswordSecretName is { } name && string.IsNullOrWhiteSpace(name))
        {
            errors.Add("KeyBrake:Storage:Postgres:PasswordSecretName: must name a secret when set.");
        }
    }
}
