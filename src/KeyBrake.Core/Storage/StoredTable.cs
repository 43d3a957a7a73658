namespace KeyBrake.Storage;

/// <summary>
/// One table's rows exactly as an engine stores them, for <c>KeyBrake storage copy</c> (SPEC §9): every column by name,
/// each value a <see cref="string"/>, a <see cref="long"/> or null. Rows are copied as stored, not through the model,
/// so nothing an engine keeps (a column the model does not read, a JSON text as written) is lost or re-spelt.
/// </summary>
public sealed record StoredTable(string Name, IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows)
{
    /// <summary>The tables copied as rows besides the audit chain and its checkpoints, in the order they are written.</summary>
    public static readonly IReadOnlyList<string> Copied = ["principals", "vault_keys"];

    /// <summary>
    /// The same rows as <paramref name="other"/>, whatever the order either engine returned them in and whatever the
    /// order of its columns: rows matched by their first column (the primary key), every value equal.
    /// </summary>
    public bool SameRowsAs(StoredTable other)
    {
        if (Name != other.Name || Rows.Count != other.Rows.Count || !Columns.Order(StringComparer.Ordinal).SequenceEqual(other.Columns.Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            return false;
        }
        var theirs = other.Rows.ToDictionary(r => (string)r[0]!, StringComparer.Ordinal);
        var positions = Columns.Select(c => other.Columns.ToList().IndexOf(c)).ToArray();
        return Rows.All(row => theirs.TryGetValue((string)row[0]!, out var match)
            && positions.Select((p, i) => Equals(row[i], match[p])).All(same => same));
    }
}
