using System.Text;
using KeyBrake.Keys;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// The text of a <c>keybrake_keys</c> notification: the sending process's id on the first line, then one change per
/// line (<c>key_id token_hash</c>, or <c>*</c> for <see cref="KeyChange.All"/>). Several changes share a notification,
/// each kept under PostgreSQL's payload limit (8000 bytes).
/// </summary>
internal static class PostgresKeyChangePayload
{
    private const int MaxBytes = 7000;
    private const string AllLine = "*";

    public static List<string> Encode(string processId, IReadOnlyList<KeyChange> changes)
    {
        var payloads = new List<string>();
        var text = new StringBuilder();
        foreach (var change in changes)
        {
            if (text.Length == 0)
            {
                text.Append(processId);
            }
            text.Append('\n').Append(change.IsAll ? AllLine : change.KeyId + " " + change.TokenHash);
            if (text.Length >= MaxBytes)
            {
                payloads.Add(text.ToString());
                text.Clear();
            }
        }
        if (text.Length > 0)
        {
            payloads.Add(text.ToString());
        }
        return payloads;
    }

    /// <summary>
    /// The changes another process sent; none when <paramref name="ownProcessId"/> sent them (its subscribers had them
    /// already). A line that does not parse becomes <see cref="KeyChange.All"/>: a change not understood is not ignored.
    /// </summary>
    public static List<KeyChange> Decode(string payload, string ownProcessId)
    {
        var lines = payload.Split('\n');
        var changes = new List<KeyChange>();
        if (lines[0] == ownProcessId)
        {
            return changes;
        }
        foreach (var line in lines.Skip(1).DefaultIfEmpty(""))
        {
            var parts = line.Split(' ');
            changes.Add(parts is [{ Length: > 0 } keyId, { Length: > 0 } tokenHash] ? new KeyChange(keyId, tokenHash) : KeyChange.All);
        }
        return changes;
    }
}
