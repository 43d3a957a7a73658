using System.Text.RegularExpressions;

namespace KeyBrake.Tests.Architecture;

/// <summary>
/// STYLE #15, issue 15: feature folders are bounded — a folder may use another's types, never the other way round as
/// well, so no cycle between the folders of src/KeyBrake (the root, which composes them, is not a feature). And the
/// store seam is real: only src/KeyBrake.Storage.Sqlite names SQLite.
/// Read from the source: a folder depends on another when one of its files names a top-level type, or calls an
/// extension method, declared only there.
/// </summary>
public sealed partial class FeatureFolderTests
{
    private const string Root = "(root)";

    [Fact]
    public void FeatureFolders_HaveNoDependencyCycle()
    {
        var graph = FolderGraph(Path.Combine(RepositoryRoot(), "src", "KeyBrake"));
        // Not vacuous: the reading finds the dependencies everyone knows are there (the proxy looks keys up, the key
        // endpoints write audit entries and check roles).
        Assert.Contains("KeyLookup", graph["Proxy"]["Keys"]);
        Assert.Contains("AuditLog", graph["Keys"]["Audit"]);
        Assert.Contains("RequireRoles()", graph["Keys"]["Access"]);

        var cycles = StronglyConnected(graph).Where(c => c.Count > 1).Select(c => string.Join(" ⇄ ", c.Order(StringComparer.Ordinal))).ToList();

        Assert.True(cycles.Count == 0, "Feature folders depend on each other in cycles: " + string.Join("; ", cycles)
            + Environment.NewLine + Describe(graph));
    }

    [Fact]
    public void OnlyTheSqliteProject_NamesSqlite() => Assert.Empty(NamingOutside(SqliteName(), "KeyBrake.Storage.Sqlite/"));

    [Fact]
    public void OnlyThePostgresProject_NamesNpgsql()
    {
        Assert.NotEmpty(NamingOutside(NpgsqlName(), "KeyBrake.Storage.Sqlite/")); // not vacuous: the engine is found
        Assert.Empty(NamingOutside(NpgsqlName(), "KeyBrake.Storage.Postgres/"));
    }

    /// <summary>The files of src/ outside <paramref name="project"/> whose text matches <paramref name="engine"/>.</summary>
    private static List<string> NamingOutside(Regex engine, string project)
    {
        var src = Path.Combine(RepositoryRoot(), "src");
        return SourceFiles(src, "*.cs", "*.csproj", "*.cshtml")
            .Where(f => engine.IsMatch(File.ReadAllText(f)))
            .Select(f => Path.GetRelativePath(src, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith(project, StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>Folder → the folders it uses, with the names that make each edge (for the failure message).</summary>
    private static Dictionary<string, Dictionary<string, SortedSet<string>>> FolderGraph(string host)
    {
        // Comments say nothing about dependencies, and a property may share its name with a type (DataDirectory).
        var files = SourceFiles(host, "*.cs").ToDictionary(f => f, f => (Folder: FolderOf(host, f),
            Text: PropertyName().Replace(LineComment().Replace(File.ReadAllText(f), ""), " { get")));
        var types = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var extensions = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (folder, text) in files.Values)
        {
            foreach (Match m in TopLevelType().Matches(text))
            {
                Add(types, m.Groups[1].Value, folder);
            }
            foreach (Match m in ExtensionMethod().Matches(text))
            {
                Add(extensions, m.Groups[1].Value, folder);
            }
        }
        var graph = new Dictionary<string, Dictionary<string, SortedSet<string>>>(StringComparer.Ordinal);
        foreach (var (folder, text) in files.Values)
        {
            var uses = graph.TryGetValue(folder, out var u) ? u : graph[folder] = new(StringComparer.Ordinal);
            foreach (var name in Identifier().Matches(text).Select(m => m.Value).Distinct())
            {
                Edge(uses, folder, types, name, name);
            }
            foreach (var name in Call().Matches(text).Select(m => m.Groups[1].Value).Distinct())
            {
                Edge(uses, folder, extensions, name, name + "()");
            }
        }
        return graph;
    }

    private static void Edge(Dictionary<string, SortedSet<string>> uses, string folder, Dictionary<string, HashSet<string>> declared, string name, string why)
    {
        // A name declared in two folders is ambiguous here: not counted.
        if (declared.TryGetValue(name, out var where) && where.Count == 1 && where.Single() is var other && other != folder && other != Root && folder != Root)
        {
            (uses.TryGetValue(other, out var names) ? names : uses[other] = new(StringComparer.Ordinal)).Add(why);
        }
    }

    /// <summary>Tarjan's strongly connected components.</summary>
    private static List<List<string>> StronglyConnected(Dictionary<string, Dictionary<string, SortedSet<string>>> graph)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var components = new List<List<string>>();
        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in graph.TryGetValue(v, out var edges) ? edges.Keys.ToList() : [])
            {
                if (!index.TryGetValue(w, out var seen))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                {
                    low[v] = Math.Min(low[v], seen);
                }
            }
            if (low[v] == index[v])
            {
                var component = new List<string>();
                string w;
                do
                {
                    w = stack.Pop();
                    onStack.Remove(w);
                    component.Add(w);
                }
                while (w != v);
                components.Add(component);
            }
        }
        foreach (var v in graph.Keys.Order(StringComparer.Ordinal).Where(v => !index.ContainsKey(v)))
        {
            Visit(v);
        }
        return components;
    }

    private static string Describe(Dictionary<string, Dictionary<string, SortedSet<string>>> graph) => string.Join(Environment.NewLine,
        graph.OrderBy(g => g.Key, StringComparer.Ordinal).SelectMany(g => g.Value.Select(e => $"  {g.Key} → {e.Key}: {string.Join(", ", e.Value)}")));

    private static string FolderOf(string host, string file)
    {
        var parts = Path.GetRelativePath(host, file).Split(Path.DirectorySeparatorChar);
        // The dashboard and the options' validation sit on top of the features they use (validation composes them).
        return parts.Length == 1 ? Root
            : parts is ["Admin", "Dashboard", _, ..] ? "Admin/Dashboard"
            : parts is ["Options", "Validation", _, ..] ? "Options/Validation"
            : parts[0];
    }

    private static void Add(Dictionary<string, HashSet<string>> map, string name, string folder) =>
        (map.TryGetValue(name, out var set) ? set : map[name] = new(StringComparer.Ordinal)).Add(folder);

    private static IEnumerable<string> SourceFiles(string directory, params string[] patterns) =>
        patterns.SelectMany(p => Directory.EnumerateFiles(directory, p, SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "KeyBrake.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("KeyBrake.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^(?:public|internal)[\w ]*?\b(?:class|record|struct|interface|enum)\s+(?:struct\s+)?([A-Z]\w*)", RegexOptions.Multiline)]
    private static partial Regex TopLevelType();

    [GeneratedRegex(@"static [\w<>\[\],?. ]+ (\w+)(?:<[^>]*>)?\(this ")]
    private static partial Regex ExtensionMethod();

    [GeneratedRegex(@"\b[A-Z]\w*\b")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"\.(\w+)(?:<[^>(]*>)?\(")]
    private static partial Regex Call();

    [GeneratedRegex(@"\b[A-Z]\w*\s*\{\s*get")]
    private static partial Regex PropertyName();

    [GeneratedRegex(@"//.*")]
    private static partial Regex LineComment();

    [GeneratedRegex(@"Microsoft\.Data\.Sqlite|SQLitePCL")]
    private static partial Regex SqliteName();

    [GeneratedRegex(@"\bNpgsql")]
    private static partial Regex NpgsqlName();
}
