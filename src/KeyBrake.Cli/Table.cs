namespace KeyBrake.Cli;

/// <summary>A plain-text table: columns padded to their widest cell, two spaces apart, like <c>gh</c> and <c>kubectl</c>.</summary>
internal sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    public void Add(params string[] cells) => _rows.Add(cells);

    public void WriteTo(TextWriter writer)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        writer.WriteLine(Line(headers, widths));
        foreach (var row in _rows)
        {
            writer.WriteLine(Line(row, widths));
        }
    }

    private static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();

    /// <summary>"field  value" lines for one record.</summary>
    public static void WriteFields(TextWriter writer, IEnumerable<(string Name, string Value)> fields)
    {
        var list = fields.ToList();
        var width = list.Max(f => f.Name.Length);
        foreach (var (name, value) in list)
        {
            writer.WriteLine($"{(name + ":").PadRight(width + 1)}  {value}");
        }
    }
}
