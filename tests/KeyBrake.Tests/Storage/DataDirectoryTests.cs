using KeyBrake.Storage;

namespace KeyBrake.Tests.Storage;

public sealed class DataDirectoryTests
{
    private const string Root = "/srv/keybrake";

    [Theory]
    [InlineData(null, null, "/srv/keybrake/data", "/srv/keybrake/data/keybrake.db")] // the defaults
    [InlineData("/var/lib/keybrake", null, "/var/lib/keybrake", "/var/lib/keybrake/keybrake.db")]
    [InlineData("state", null, "/srv/keybrake/state", "/srv/keybrake/state/keybrake.db")]
    [InlineData(null, "/data/keybrake.db", "/data", "/data/keybrake.db")] // v1: the files were beside the database
    [InlineData(null, "db/kb.sqlite", "/srv/keybrake/db", "/srv/keybrake/db/kb.sqlite")]
    [InlineData("files", "/mnt/fast/keybrake.db", "/srv/keybrake/files", "/mnt/fast/keybrake.db")]
    public void Resolve_DataDirectoryAndDatabase(string? dataDirectory, string? database, string expectedDirectory, string expectedDatabase)
    {
        var options = new KeyBrakeOptions { DataDirectory = dataDirectory, Storage = new() { Sqlite = new() { Path = database } } };

        Assert.Equal((expectedDirectory, expectedDatabase), DataDirectory.Resolve(options, Root));
    }
}
