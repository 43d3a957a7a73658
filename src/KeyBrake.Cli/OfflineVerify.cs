using System.Security.Cryptography;
using System.Text.Json;
using KeyBrake.Audit;

namespace KeyBrake.Cli;

/// <summary>
/// <c>keybrake audit verify --file</c>: recomputes every hash and link of an NDJSON export and holds it to the signed
/// checkpoints, with no server involved. A whole export must start at seq 1 and reach every checkpoint; a
/// <c>--from/--to</c> export is a slice (<c>--slice</c>): it starts from its first <c>prev_hash</c>, checked against a
/// checkpoint when one sits just before it, and only checkpoints inside it apply.
/// </summary>
internal static class OfflineVerify
{
    public sealed record Outcome(VerifyResult Result, long FirstSeq, int CheckpointsSigned, int CheckpointsInside, string? Note);

    public static Outcome Run(string exportPath, string? checkpointsPath, string? publicKeyPath, bool slice)
    {
        var checkpoints = checkpointsPath is null ? [] : ReadCheckpoints(checkpointsPath);
        using var publicKey = publicKeyPath is null ? null : LoadPublicKey(publicKeyPath);
        var (first, last) = Bounds(exportPath);
        if (first is null || last is null)
        {
            throw new CliException($"{exportPath} holds no audit entries");
        }
        if (first.Seq != 1 && !slice)
        {
            return new Outcome(
                new VerifyResult(false, 0, 0, AuditHash.Genesis, 1,
                    $"the export starts at seq {first.Seq}: seq 1-{first.Seq - 1} are missing (for a --from/--to export, pass --slice)"),
                first.Seq, 0, 0, null);
        }
        var startSeq = first.Seq - 1;
        string? note = null;
        var applicable = slice ? checkpoints.Where(c => c.Seq <= last.Seq).ToList() : checkpoints;
        if (startSeq > 0)
        {
            var anchor = checkpoints.FirstOrDefault(c => c.Seq == startSeq);
            note = anchor is null
                ? $"the slice's link to seq {startSeq} (its first prev_hash) is taken on trust: no checkpoint at seq {startSeq}"
                : null;
            if (anchor is not null && anchor.Hash != first.PrevHash && (publicKey is null || anchor.IsSignedBy(publicKey)))
            {
                return new Outcome(new VerifyResult(false, 0, startSeq, first.PrevHash, first.Seq,
                    $"prev_hash of seq {first.Seq} does not match the signed checkpoint at seq {startSeq}"), first.Seq, 0, 0, null);
            }
        }
        var verifier = new AuditVerifier(applicable, publicKey, startSeq, startSeq == 0 ? null : first.PrevHash);
        var number = 0;
        foreach (var line in File.ReadLines(exportPath))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            if (!verifier.Add(Parse(exportPath, number, line)))
            {
                break;
            }
        }
        var inside = applicable.Count(c => c.Seq >= first.Seq && c.Seq <= last.Seq);
        return new Outcome(verifier.Finish(), first.Seq, checkpoints.Count, inside, note);
    }

    private static AuditEntry Parse(string path, int number, string line)
    {
        try
        {
            return AuditEntryJson.Parse(line);
        }
        catch (FormatException e)
        {
            throw new CliException($"{Path.GetFileName(path)} line {number} is not an audit entry: {e.Message}");
        }
    }

    private static (AuditEntry? First, AuditEntry? Last) Bounds(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"{path}: no such file");
        }
        string? first = null, last = null;
        int firstNumber = 0, lastNumber = 0, number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            if (first is null)
            {
                (first, firstNumber) = (line, number);
            }
            (last, lastNumber) = (line, number);
        }
        return first is null ? (null, null) : (Parse(path, firstNumber, first), Parse(path, lastNumber, last!));
    }

    /// <summary>Either <c>data/checkpoints.ndjson</c> (one per line) or the JSON of <c>GET /v1/audit/checkpoints</c>.</summary>
    public static List<Checkpoint> ReadCheckpoints(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"{path}: no such file");
        }
        var text = File.ReadAllText(path);
        if (text.TrimStart().StartsWith("{\"checkpoints\"", StringComparison.Ordinal))
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                return [.. document.RootElement.GetProperty("checkpoints").EnumerateArray().Select(c => Checkpoint(path, 1, c.GetRawText()))];
            }
            catch (JsonException e)
            {
                throw new CliException($"{Path.GetFileName(path)} is not valid JSON: {e.Message.Split(" Path:")[0]}");
            }
        }
        var list = new List<Checkpoint>();
        var number = 0;
        foreach (var line in text.Split('\n'))
        {
            number++;
            if (!string.IsNullOrWhiteSpace(line))
            {
                list.Add(Checkpoint(path, number, line));
            }
        }
        return list;
    }

    private static Checkpoint Checkpoint(string path, int number, string line) =>
        CheckpointFile.TryParse(line, out var checkpoint) && checkpoint.Hash.Length == 64
            ? checkpoint
            : throw new CliException($"{Path.GetFileName(path)} line {number} is not a checkpoint ({{\"seq\",\"hash\",\"ts\",\"signature\"}})");

    private static ECDsa LoadPublicKey(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"{path}: no such file");
        }
        try
        {
            return SigningKeys.Load(File.ReadAllText(path));
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new CliException($"{Path.GetFileName(path)} is not a P-256 public key in PEM form: {e.Message}");
        }
    }
}
