namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>Executables of this solution, built alongside the tests, run as child processes.</summary>
internal static class BuiltOutput
{
    /// <summary>src/{project}/bin/{the configuration of this test assembly}/net10.0/{dll}.</summary>
    public static string Dll(string project, string dll)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KeyBrake.sln")))
            {
                var path = Path.Combine(dir.FullName, "src", project, "bin", configuration, "net10.0", dll);
                return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: build the solution first");
            }
        }
        throw new InvalidOperationException("KeyBrake.sln not found above " + AppContext.BaseDirectory);
    }
}
