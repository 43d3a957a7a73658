using System.Text.RegularExpressions;
using static KeyBrake.Tests.Deploy.DeployFiles;

namespace KeyBrake.Tests.Deploy;

/// <summary>
/// No Docker engine or Kubernetes cluster runs here, so the Dockerfile and deploy/ are checked by parsing them and
/// cross-checking ports, paths, probes and configuration keys against the app itself.
/// </summary>
public sealed partial class DeployFilesTests
{
    private static readonly string HostDll = typeof(KeyBrakeOptions).Assembly.GetName().Name + ".dll";

    [Fact]
    public void KeyNameCheck_FindsTypos_AndAcceptsDictionaryLevels()
    {
        var unknown = UnknownKeyBrakeKeys([
            "KeyBrake:Secrets:MaxStale", "KeyBrake:Vendors:stripe:ConnectTimeout", "KeyBrake:Secrets:Local:any-name",
            "KeyBrake:Pricing:Fx:eur", "KeyBrake:Secrets:MaxStal", "KeyBrake:Proxy:DrainTimeout:Extra", "Logging:LogLevel:Default",
        ]);

        Assert.Equal(["KeyBrake:Secrets:MaxStal", "KeyBrake:Proxy:DrainTimeout:Extra"], unknown);
    }

    [Fact]
    public void Dockerfile_MultiStageReleasePublish_NonRoot_BothListeners_HealthCheckAndDataVolume()
    {
        var docker = Dockerfile.Parse(Read("Dockerfile"));
        var env = docker.Env;

        Assert.True(docker.Stages >= 2, "multi-stage");
        Assert.Contains(docker.Runs, r => r.Contains("dotnet publish", StringComparison.Ordinal) && r.Contains("-c Release", StringComparison.Ordinal));
        Assert.NotNull(docker.User);
        Assert.DoesNotMatch("^(root|0)$", docker.User);
        Assert.Equal([Port(env["Kestrel:Endpoints:Proxy:Url"]), Port(env["Kestrel:Endpoints:Admin:Url"])], docker.Expose);
        Assert.Equal(["dotnet", $"/app/{HostDll}"], docker.Entrypoint);
        Assert.Equal("/app", docker.Workdir);
        Assert.Equal(["dotnet", $"/app/{HostDll}", HealthCheckCommand.Name], docker.HealthCheck);
        // State lives on the volume: the data directory and the database in it.
        var (data, database) = DataPaths(docker.Workdir!, env);
        Assert.Contains(data, docker.Volumes);
        Assert.Equal(data, Path.GetDirectoryName(database));
        Assert.Contains(docker.Runs, r => r.Contains($"chmod 700 {data}", StringComparison.Ordinal)); // owner-only from the first mount
        Assert.All(docker.Copies, source => Assert.True(File.Exists(Path.Combine(Root, source)) || Directory.Exists(Path.Combine(Root, source)), $"COPY {source}: not in the repository"));
        Assert.Empty(UnknownKeyBrakeKeys(env.Keys));
        var validation = Validate(env);
        Assert.True(validation.Succeeded, validation.FailureMessage);
        // The listener KeyBrake would otherwise refuse off loopback is allowed on purpose, and the admin port is not published beyond the host in compose.
        Assert.Equal("true", env["KeyBrake:Admin:AllowPlaintextNonLoopback"]);
    }

    /// <summary>
    /// The image builds from the projects it copies: every project the host references (transitively: the store seam
    /// added KeyBrake.Core and KeyBrake.Storage.Sqlite) is copied for the restore and for the publish.
    /// </summary>
    [Fact]
    public void Dockerfile_CopiesEveryProjectTheHostReferences()
    {
        var dockerfile = Read("Dockerfile");
        var projects = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>(["KeyBrake"]);
        while (pending.TryDequeue(out var name))
        {
            if (!projects.Add(name))
            {
                continue;
            }
            var csproj = Read($"src/{name}/{name}.csproj");
            foreach (Match reference in Regex.Matches(csproj, @"ProjectReference Include=""\.\.\\([^\\]+)\\"))
            {
                pending.Enqueue(reference.Groups[1].Value);
            }
        }

        Assert.Equal(["KeyBrake", "KeyBrake.Audit", "KeyBrake.Core", "KeyBrake.Storage.Postgres", "KeyBrake.Storage.Sqlite"], projects);
        Assert.All(projects, name =>
        {
            Assert.Contains($"COPY src/{name}/{name}.csproj src/{name}/", dockerfile, StringComparison.Ordinal);
            Assert.Contains($"COPY src/{name}/ src/{name}/", dockerfile, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void HealthCheck_ResolvesWildcardListenersToLoopback()
    {
        Assert.Equal(new Uri("http://127.0.0.1:8081/"), HealthCheckCommand.LoopbackUrl("http://0.0.0.0:8081"));
        Assert.Equal(new Uri("https://127.0.0.1:9443/"), HealthCheckCommand.LoopbackUrl("https://[::]:9443"));
        Assert.Equal(new Uri("http://127.0.0.1:8081/"), HealthCheckCommand.LoopbackUrl("http://127.0.0.1:8081"));
    }

    [Fact]
    public void Kubernetes_DeploymentServicePdbNetworkPolicyAndIdentity_AgreeWithTheAppAndEachOther()
    {
        var kustomization = Yaml("deploy/kubernetes/kustomization.yaml");
        var resources = List(kustomization["resources"]).Select(r => Yaml($"deploy/kubernetes/{r}")).ToList();
        Dictionary<string, object> Kind(string kind) => Assert.Single(resources, r => (string)r["kind"] == kind);
        var deployment = Kind("Deployment");
        var service = Kind("Service");
        var pdb = Kind("PodDisruptionBudget");
        var policy = Kind("NetworkPolicy");
        var account = Kind("ServiceAccount");
        var configMap = Kind("ConfigMap");

        var pod = At(deployment, "spec", "template");
        var podLabels = At(pod, "metadata", "labels");
        var podSpec = At(pod, "spec");
        var container = Map(Assert.Single(List(podSpec["containers"])));
        var ports = List(container["ports"]).Select(Map).ToDictionary(p => (string)p["name"], p => int.Parse((string)p["containerPort"], System.Globalization.CultureInfo.InvariantCulture));
        var env = List(container["env"]).Select(Map).Where(e => e.ContainsKey("value")).ToDictionary(e => EnvironmentKey((string)e["name"]), e => (string?)e["value"]);
        var appsettings = JsonSettings((string)Map(configMap["data"])["appsettings.Production.json"]);
        var image = Dockerfile.Parse(Read("Dockerfile")).Env;

        // The settings the pod runs with (image, then appsettings.Production.json, then the pod's env) validate, with no unknown key.
        Assert.Empty(UnknownKeyBrakeKeys(appsettings.Keys.Concat(env.Keys)));
        var validation = Validate(image, appsettings, env);
        Assert.True(validation.Succeeded, validation.FailureMessage);
        Assert.Equal("Production", env["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal("AzureKeyVault", appsettings["KeyBrake:Secrets:Provider"]);

        // Ports: container ports are the listeners' ports; probes on the admin port at the app's health routes.
        Assert.Equal(Port(appsettings["Kestrel:Endpoints:Proxy:Url"]), ports["proxy"]);
        Assert.Equal(Port(appsettings["Kestrel:Endpoints:Admin:Url"]), ports["admin"]);
        foreach (var (probe, path) in new[] { ("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz") })
        {
            var get = At(container, probe, "httpGet");
            Assert.Equal((path, "admin"), ((string)get["path"], (string)get["port"]));
        }

        // The Service exposes the proxy listener only; the admin listener stays internal.
        var servicePorts = List(At(service, "spec")["ports"]).Select(Map).ToList();
        Assert.Equal(["proxy"], servicePorts.Select(p => (string)p["targetPort"]));
        Assert.Equal(ports["proxy"].ToString(System.Globalization.CultureInfo.InvariantCulture), (string)Assert.Single(servicePorts)["port"]);

        // Selectors all pick this pod.
        foreach (var selector in new[] { At(service, "spec", "selector"), At(deployment, "spec", "selector", "matchLabels"), At(pdb, "spec", "selector", "matchLabels"), At(policy, "spec", "podSelector", "matchLabels") })
        {
            Assert.All(selector, p => Assert.Equal(p.Value, podLabels.GetValueOrDefault(p.Key)));
        }

        // NetworkPolicy: ingress only to the two listener ports, each from its own kind of client.
        var ingressPorts = List(At(policy, "spec")["ingress"]).Select(Map).SelectMany(rule => List(rule["ports"]).Select(Map)).Select(p => int.Parse((string)p["port"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(ports.Values.Order(), ingressPorts.Order());

        // Azure workload identity for Key Vault.
        Assert.Equal((string)At(account, "metadata")["name"], (string)podSpec["serviceAccountName"]);
        Assert.True(At(account, "metadata", "annotations").ContainsKey("azure.workload.identity/client-id"));
        Assert.Equal("true", (string)podLabels["azure.workload.identity/use"]);

        // Paths: the data volume is the data directory (this pod's own checkpoints.ndjson: an emptyDir, no claim, since
        // the store is PostgreSQL); the ConfigMap lands where ASP.NET Core reads appsettings.Production.json.
        var mounts = List(container["volumeMounts"]).Select(Map).ToDictionary(m => (string)m["name"], m => (string)m["mountPath"]);
        var (data, _) = DataPaths(Dockerfile.Parse(Read("Dockerfile")).Workdir!, image, appsettings, env);
        Assert.Equal(mounts["data"], data);
        var volumes = List(podSpec["volumes"]).Select(Map).ToDictionary(v => (string)v["name"]);
        Assert.True(volumes["data"].ContainsKey("emptyDir"), "the data volume is an emptyDir");
        Assert.DoesNotContain(resources, r => (string)r["kind"] == "PersistentVolumeClaim");
        Assert.Equal("OnRootMismatch", (string)At(podSpec, "securityContext")["fsGroupChangePolicy"]); // kubelet does not reopen 0600 files at each start
        Assert.Equal($"{Dockerfile.Parse(Read("Dockerfile")).Workdir}/appsettings.Production.json", mounts["config"]);
        Assert.Equal("/tmp", mounts["tmp"]); // the runtime's diagnostics socket, with a read-only root filesystem

        // Hardening, and a grace period longer than the drain.
        Assert.Equal("true", (string)At(container, "securityContext")["readOnlyRootFilesystem"]);
        Assert.Equal("true", (string)At(podSpec, "securityContext")["runAsNonRoot"]);
        Assert.NotEqual("0", (string)At(podSpec, "securityContext")["runAsUser"]);
        var drain = appsettings.GetValueOrDefault("KeyBrake:Proxy:DrainTimeout") is { } text ? Duration.ParseConfig(text) : new ProxyOptions().DrainTimeout;
        Assert.True(int.Parse((string)podSpec["terminationGracePeriodSeconds"], System.Globalization.CultureInfo.InvariantCulture) > drain.TotalSeconds);

        // Replicas on PostgreSQL (SPEC §9): three, rolled one at a time, two kept through voluntary disruptions.
        var replicas = int.Parse((string)At(deployment, "spec")["replicas"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(3, replicas);
        Assert.Equal("RollingUpdate", (string)At(deployment, "spec", "strategy")["type"]);
        var minAvailable = int.Parse((string)At(pdb, "spec")["minAvailable"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(2, minAvailable);
        Assert.True(minAvailable < replicas, "a PodDisruptionBudget as large as the replicas blocks every node drain");
        Assert.Equal("None", (string)At(service, "spec")["sessionAffinity"]); // any replica serves any request
        var settings = appsettings.Concat(env).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("Postgres", settings["KeyBrake:Storage:Provider"]);
        // The password is the Key Vault secret PasswordSecretName names; the connection string has none.
        Assert.False(string.IsNullOrWhiteSpace(settings.GetValueOrDefault("KeyBrake:Storage:Postgres:PasswordSecretName")));
        var connection = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = settings["KeyBrake:Storage:Postgres:ConnectionString"] };
        Assert.False(connection.ContainsKey("Password") || connection.ContainsKey("Pwd"), "no password in the ConfigMap's connection string");
        // The NetworkPolicy lets the pods reach the database.
        var databasePort = connection.TryGetValue("Port", out var port) ? Convert.ToString(port, System.Globalization.CultureInfo.InvariantCulture) : "5432";
        var egressPorts = List(At(policy, "spec")["egress"]).Select(Map).SelectMany(rule => List(rule["ports"]).Select(Map)).Select(p => (string)p["port"]);
        Assert.Contains(databasePort, egressPorts);
    }

    [Fact]
    public void Compose_TwoReplicasOnPostgres_AndCollector_AgreeOnPortsPathsDatabaseAndOtlp()
    {
        var compose = Yaml("deploy/docker-compose.yaml");
        var services = At(compose, "services");
        var collector = At(services, "otel-collector");
        var postgres = At(services, "postgres");
        var image = Dockerfile.Parse(Read("Dockerfile")).Env;
        // The KeyBrake replicas: every service built from the repository's Dockerfile.
        var replicas = services.Where(s => Map(s.Value).ContainsKey("build")).ToDictionary(s => s.Key, s => Map(s.Value));
        Assert.Equal(2, replicas.Count);

        // PostgreSQL: reports its health, and the replicas start only once it is healthy.
        Assert.Contains("pg_isready", List(At(postgres, "healthcheck")["test"]).Cast<string>());
        var published = new List<string>();
        foreach (var (name, keybrake) in replicas)
        {
            var env = At(keybrake, "environment").ToDictionary(p => EnvironmentKey(p.Key), p => (string?)p.Value);
            Assert.Equal("service_healthy", (string)At(keybrake, "depends_on", "postgres")["condition"]);
            Assert.Equal("Postgres", env["KeyBrake:Storage:Provider"]);
            var connection = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = env["KeyBrake:Storage:Postgres:ConnectionString"] };
            Assert.Equal("postgres", (string)connection["Host"]);
            Assert.Equal((string)At(postgres, "environment")["POSTGRES_DB"], (string)connection["Database"]);
            Assert.Equal((string)At(postgres, "environment")["POSTGRES_USER"], (string)connection["Username"]);
            // The password reaches KeyBrake as the secret PasswordSecretName names, from the operator's shell, as it reaches PostgreSQL.
            var secret = env["KeyBrake:Storage:Postgres:PasswordSecretName"];
            Assert.Equal((string)At(postgres, "environment")["POSTGRES_PASSWORD"], env[$"KeyBrake:Secrets:Local:{secret}"]);
            Assert.True(env.ContainsKey("KeyBrake:Secrets:Local:audit-signing-key"), $"{name}: the replicas share one checkpoint signing key");

            var build = At(keybrake, "build");
            Assert.True(File.Exists(Path.Combine(Root, "deploy", (string)build["context"], (string)build["dockerfile"])));
            var ports = List(keybrake["ports"]).Cast<string>().ToList();
            Assert.Contains(ports, p => p.EndsWith($":{Port(image["Kestrel:Endpoints:Proxy:Url"])}", StringComparison.Ordinal) && !p.StartsWith("127.", StringComparison.Ordinal));
            Assert.Contains(ports, p => p.StartsWith("127.0.0.1:", StringComparison.Ordinal) && p.EndsWith($":{Port(image["Kestrel:Endpoints:Admin:Url"])}", StringComparison.Ordinal)); // admin: this host only
            published.AddRange(ports.Select(p => p[..p.LastIndexOf(':')]));
            Assert.Equal("true", (string)keybrake["read_only"]);
            var (data, _) = DataPaths(Dockerfile.Parse(Read("Dockerfile")).Workdir!, image, env);
            Assert.Single(List(keybrake["volumes"]).Cast<string>(), v => v.EndsWith($":{data}", StringComparison.Ordinal));
            Assert.Empty(UnknownKeyBrakeKeys(env.Keys));
            var validation = Validate(image, env);
            Assert.True(validation.Succeeded, validation.FailureMessage);
            Assert.Equal("45s", (string)keybrake["stop_grace_period"]);

            // OTLP: KeyBrake exports to the collector's OTLP/HTTP receiver, which feeds all three pipelines.
            var endpoint = new Uri(env["OTEL_EXPORTER_OTLP_ENDPOINT"]!);
            Assert.Equal("otel-collector", endpoint.Host);
            var mount = List(collector["volumes"]).Cast<string>().Single().Split(':');
            var config = Yaml(Path.Combine("deploy", mount[0]));
            Assert.Contains($"--config={mount[1]}", List(collector["command"]).Cast<string>());
            var receiver = (string)At(config, "receivers", "otlp", "protocols", "http")["endpoint"];
            Assert.Equal(endpoint.Port, Port("http://" + receiver));
            foreach (var signal in new[] { "traces", "metrics", "logs" })
            {
                Assert.Contains("otlp", List(At(config, "service", "pipelines", signal)["receivers"]).Cast<string>());
            }
        }
        Assert.Equal(published.Count, published.Distinct().Count()); // two replicas on one host: no port published twice
        // Each replica its own data volume (its own checkpoints.ndjson).
        Assert.Equal(2, replicas.Values.Select(r => List(r["volumes"]).Cast<string>().Single().Split(':')[0]).Distinct().Count());
    }

    /// <summary>
    /// SPEC §6, §9: no deploy file holds a password. Connection strings carry none, and every value whose key names a
    /// password (other than the name of the secret that holds one) is a Compose interpolation from the operator's shell.
    /// </summary>
    [Fact]
    public void DeployFiles_HoldNoPassword()
    {
        var files = Directory.EnumerateFiles(Path.Combine(Root, "deploy"), "*.yaml", SearchOption.AllDirectories).ToList();
        Assert.Contains(files, f => f.EndsWith("docker-compose.yaml", StringComparison.Ordinal));
        var found = new List<string>();
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            found.AddRange(PasswordInConnectionString().Matches(text).Select(m => $"{Path.GetFileName(file)}: {m.Value}"));
            foreach (var (key, value) in Scalars(Yaml(Path.GetRelativePath(Root, file)), ""))
            {
                if (PasswordKey().IsMatch(key) && !key.EndsWith("SecretName", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("${", StringComparison.Ordinal))
                {
                    found.Add($"{Path.GetFileName(file)}: {key}");
                }
            }
        }

        Assert.Empty(found);
        // Not vacuous: the check sees the password settings that are there.
        Assert.Contains(Scalars(Yaml("deploy/docker-compose.yaml"), ""), s => s.Key.EndsWith("POSTGRES_PASSWORD", StringComparison.Ordinal));
    }

    /// <summary>Every scalar of a YAML tree with its path (a ConfigMap's embedded JSON flattened too).</summary>
    private static IEnumerable<KeyValuePair<string, string>> Scalars(object node, string path) => node switch
    {
        Dictionary<string, object> map => map.SelectMany(p => Scalars(p.Value, $"{path}/{p.Key}")),
        IDictionary<object, object> map => map.SelectMany(p => Scalars(p.Value, $"{path}/{p.Key}")),
        List<object> list => list.SelectMany((item, i) => Scalars(item, $"{path}/{i}")),
        string text when text.TrimStart().StartsWith('{') => JsonSettings(text).Select(p => new KeyValuePair<string, string>($"{path}/{p.Key}", p.Value!)),
        string text => [new(path, text)],
        _ => [],
    };

    [GeneratedRegex(@"(?i)\b(password|pwd)\s*=\s*[^;""\s$]")]
    private static partial Regex PasswordInConnectionString();

    [GeneratedRegex(@"(?i)password[^/]*$")]
    private static partial Regex PasswordKey();

    private static int Port(string? url) => Microsoft.AspNetCore.Http.BindingAddress.Parse(url!).Port;

    /// <summary>The Dockerfile instructions these tests check; continuation lines joined, comments dropped.</summary>
    private sealed record Dockerfile(int Stages, List<string> Runs, string? User, List<int> Expose, List<string> Entrypoint,
        List<string> HealthCheck, List<string> Volumes, List<string> Copies, string? Workdir, Dictionary<string, string?> Env)
    {
        public static Dockerfile Parse(string text)
        {
            var lines = Regex.Replace(text, @"\\\r?\n\s*", " ").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
            var result = new Dockerfile(0, [], null, [], [], [], [], [], null, new(StringComparer.OrdinalIgnoreCase));
            var stages = 0;
            foreach (var line in lines)
            {
                var (instruction, rest) = (line.Split(' ', 2)[0].ToUpperInvariant(), line.Split(' ', 2).ElementAtOrDefault(1) ?? "");
                if (instruction == "FROM")
                {
                    stages++;
                    result = result with { Env = new(StringComparer.OrdinalIgnoreCase), Expose = [], User = null, Workdir = null }; // per stage: keep the last
                }
                result = instruction switch
                {
                    "RUN" => result with { Runs = [.. result.Runs, rest] },
                    "USER" => result with { User = rest },
                    "WORKDIR" => result with { Workdir = rest },
                    "EXPOSE" => result with { Expose = [.. result.Expose, .. rest.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)] },
                    "ENTRYPOINT" => result with { Entrypoint = JsonArray(rest) },
                    "HEALTHCHECK" => result with { HealthCheck = JsonArray(rest[(rest.IndexOf("CMD ", StringComparison.Ordinal) + 4)..]) },
                    "VOLUME" => result with { Volumes = [.. result.Volumes, .. JsonArray(rest)] },
                    "COPY" when !rest.StartsWith("--from", StringComparison.Ordinal) =>
                        result with { Copies = [.. result.Copies, .. rest.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]] },
                    "ENV" => result with { Env = new(result.Env.Concat(EnvPairs(rest)), StringComparer.OrdinalIgnoreCase) },
                    _ => result,
                };
            }
            return result with { Stages = stages };
        }

        private static List<string> JsonArray(string text) => System.Text.Json.JsonSerializer.Deserialize<List<string>>(text.Trim())!;

        private static IEnumerable<KeyValuePair<string, string?>> EnvPairs(string text) =>
            text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(pair => pair.Split('=', 2))
                .Select(p => new KeyValuePair<string, string?>(EnvironmentKey(p[0]), p[1]));
    }
}
