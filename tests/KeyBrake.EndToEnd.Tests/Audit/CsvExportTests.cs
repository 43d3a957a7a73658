using System.Net;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Audit;

/// <summary>
/// SPEC §7: the CSV export is opened in spreadsheets, and an agent chooses its own reason: a cell that would run as a
/// formula is written as text, with the RFC 4180 quoting kept, by the API and by <c>keybrake audit export</c>.
/// </summary>
public sealed class CsvExportTests : HostedTest
{
    [Fact]
    public async Task CsvExport_FormulaInTheAgentsReason_IsWrittenAsText_ByTheApiAndTheCli()
    {
        const string formula = "=HYPERLINK(\"http://x\",\"y\")";
        var (_, token) = await Host.CreateKeyAsync("-formula-run", "stripe", ["GET /v1/customers/*"]);
        using var request = KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_formula", token);
        request.Headers.Add("X-KeyBrake-Reason", formula);
        using var call = await Host.Proxy.SendAsync(request);
        await Host.AuditFlushedAsync();
        var work = Directory.CreateTempSubdirectory("keybrake-csv-").FullName;

        try
        {
            var csv = await Host.Admin.GetStringAsync("/v1/audit/export?format=csv");
            var cli = await CliProcess.RunAsync(Host.AdminUrl, ["audit", "export", "--format", "csv", "--output", Path.Combine(work, "audit.csv")], null, work);

            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
            var rows = csv.Split("\r\n").Where(row => row.Contains("/v1/customers/cus_formula", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, rows.Count); // proxy.request and proxy.response
            Assert.All(rows, row =>
            {
                Assert.Contains(",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",", row, StringComparison.Ordinal); // defused, still RFC 4180
                Assert.Contains(",'-formula-run,", row, StringComparison.Ordinal);
            });
            Assert.DoesNotContain(",\"=", csv, StringComparison.Ordinal);
            Assert.True(cli.ExitCode == 0, cli.ToString());
            Assert.Equal(csv, await File.ReadAllTextAsync(Path.Combine(work, "audit.csv"))); // the CLI writes the server's bytes
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
