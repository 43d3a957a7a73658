using System.Reflection;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace KeyBrake.Tests.Deploy;

/// <summary>Reading the repository's Dockerfile and deploy/ files, and checking configuration keys against KeyBrakeOptions.</summary>
internal static class DeployFiles
{
    public static readonly string Root = FindRoot();

    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath));

    /// <summary>A YAML file as nested dictionaries (string keys), lists and strings; anchors and merge keys (<c>&lt;&lt;: *x</c>) resolved as Compose does.</summary>
    public static Dictionary<string, object> Yaml(string relativePath) =>
        Map(new DeserializerBuilder().Build().Deserialize<object>(new MergingParser(new Parser(new StringReader(Read(relativePath))))));

    public static Dictionary<string, object> Map(object? node) => node switch
    {
        IDictionary<object, object> d => d.ToDictionary(p => (string)p.Key, p => p.Value),
        _ => throw new InvalidOperationException($"expected a mapping, got {node?.GetType().Name ?? "null"}"),
    };

    public static List<object> List(object? node) => node as List<object> ?? throw new InvalidOperationException($"expected a list, got {node?.GetType().Name ?? "null"}");

    public static Dictionary<string, object> At(Dictionary<string, object> map, params string[] path)
    {
        var current = map;
        foreach (var key in path)
        {
            Assert.True(current.ContainsKey(key), $"missing '{key}' on the way to {string.Join('.', path)}");
            current = Map(current[key]);
        }
        return current;
    }

    /// <summary><c>KeyBrake__Secrets__MaxStale</c> → <c>KeyBrake:Secrets:MaxStale</c>.</summary>
    public static string EnvironmentKey(string name) => name.Replace("__", ":", StringComparison.Ordinal);

    /// <summary>
    /// The <c>KeyBrake:…</c> keys that bind to nothing in <see cref="KeyBrakeOptions"/> (a typo an operator would never
    /// notice: the setting is silently ignored). Dictionary levels (vendors, Local secrets, FX rates) take any name.
    /// </summary>
    public static List<string> UnknownKeyBrakeKeys(IEnumerable<string> keys)
    {
        var unknown = new List<string>();
        foreach (var key in keys.Where(k => k.StartsWith("KeyBrake:", StringComparison.OrdinalIgnoreCase)))
        {
            Type? type = typeof(KeyBrakeOptions);
            foreach (var segment in key.Split(':').Skip(1))
            {
                if (type is null)
                {
                    unknown.Add(key); // a further segment below a scalar setting
                    break;
                }
                if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
                {
                    type = Leaf(type.GetGenericArguments()[1]);
                    continue;
                }
                if (type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is not { } property)
                {
                    unknown.Add(key);
                    break;
                }
                type = Leaf(property.PropertyType);
            }
        }
        return unknown;
    }

    /// <summary>Flattens a JSON settings document into configuration keys.</summary>
    public static Dictionary<string, string?> JsonSettings(string json)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        return new ConfigurationBuilder().AddJsonStream(stream).Build().AsEnumerable()
            .Where(p => p.Value is not null)
            .ToDictionary(p => p.Key, p => p.Value);
    }

    /// <summary>Binds and validates options from the given layers (later wins), as the host would at start.</summary>
    public static Microsoft.Extensions.Options.ValidateOptionsResult Validate(params IEnumerable<KeyValuePair<string, string?>>[] layers)
    {
        var builder = new ConfigurationBuilder().AddInMemoryCollection(KeyBrakeHostExtensions.Defaults);
        foreach (var layer in layers)
        {
            builder.AddInMemoryCollection(layer);
        }
        var configuration = builder.Build();
        return OptionsValidation.Validator(configuration).Validate(null, OptionsValidation.Bind(configuration));
    }

    /// <summary>
    /// Where the host would keep its data directory and database with these layers (later wins), relative paths taken
    /// from <paramref name="workingDirectory"/>: the app's own resolution, so a deploy file is checked against it.
    /// </summary>
    public static (string Directory, string Database) DataPaths(string workingDirectory, params IEnumerable<KeyValuePair<string, string?>>[] layers)
    {
        var builder = new ConfigurationBuilder().AddInMemoryCollection(KeyBrakeHostExtensions.Defaults);
        foreach (var layer in layers)
        {
            builder.AddInMemoryCollection(layer);
        }
        var options = OptionsValidation.Bind(builder.Build());
        return KeyBrake.Storage.DataDirectory.Resolve(options, workingDirectory);
    }

    // Scalars (and nullable scalars, durations) end the path: a further segment is unknown.
    private static Type? Leaf(Type type) =>
        type == typeof(string) || type == typeof(TimeSpan) || type.IsPrimitive || Nullable.GetUnderlyingType(type) is not null || type.IsEnum ? null : type;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KeyBrake.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("KeyBrake.sln not found above " + AppContext.BaseDirectory);
    }
}
