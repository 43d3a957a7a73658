using Dapper;

namespace KeyBrake.Storage.Postgres;

/// <summary>The dashboard's Data Protection key ring in table <c>dataprotection_keys</c>, shared by every replica (SPEC §9).</summary>
internal sealed class PostgresKeyRingStore(PostgresDatabase database) : IKeyRingStore
{
    public IReadOnlyList<string> ReadAll()
    {
        using var connection = database.Open();
        return [.. connection.Query<string>("SELECT xml FROM dataprotection_keys ORDER BY friendly_name COLLATE \"C\"")];
    }

    public void Store(string friendlyName, string xml)
    {
        using var connection = database.Open();
        connection.Execute(
            "INSERT INTO dataprotection_keys (friendly_name, xml) VALUES (@friendlyName, @xml) ON CONFLICT (friendly_name) DO NOTHING",
            new { friendlyName, xml });
    }
}
