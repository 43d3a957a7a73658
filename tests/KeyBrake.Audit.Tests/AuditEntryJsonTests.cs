using System.Text.Json.Nodes;

namespace KeyBrake.Audit.Tests;

public sealed class AuditEntryJsonTests
{
    [Fact]
    public void Parse_ExportLine_RoundTripsEveryFieldAndTheHash()
    {
        foreach (var entry in TestChain.Build(5, i => TestChain.Sample(i) with { Details = "{\"b\":[1,\"x\"],\"a\":{\"z\":null}}" is var d && i % 2 == 0 ? Jcs.Canonicalize(d) : null }))
        {
            var parsed = AuditEntryJson.Parse(AuditHash.ToJson(entry));

            Assert.Equal(entry, parsed);
            Assert.Equal(entry.Hash, AuditHash.Compute(parsed));
        }
    }

    [Fact]
    public void Parse_DetailsNotInCanonicalOrder_CanonicalisedSoTheHashIsReproducible()
    {
        var entry = TestChain.Build(1, i => TestChain.Sample(i) with { Details = "{\"a\":1,\"b\":2}" })[0];
        var node = JsonNode.Parse(AuditHash.ToJson(entry))!.AsObject();
        node["details"] = JsonNode.Parse("{\"b\":2,\"a\":1}");

        Assert.Equal(entry.Hash, AuditHash.Compute(AuditEntryJson.Parse(node.ToJsonString())));
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("remove:label", "field \"label\" is missing")]
    [InlineData("add:extra", "unknown field \"extra\"")]
    [InlineData("set:seq=1.5", "\"seq\" must be an integer")]
    [InlineData("set:seq=null", "\"seq\" must not be null")]
    [InlineData("set:cost_usd_micros=\"12\"", "\"cost_usd_micros\" must be an integer")]
    [InlineData("set:http_status=70000", "\"http_status\" must be an HTTP status code")]
    [InlineData("set:details=[1]", "\"details\" must be an object or null")]
    [InlineData("set:label=5", "\"label\" must be a string")]
    public void Parse_NotAnEntry_FormatExceptionSaysWhat(string change, string message)
    {
        var text = AuditHash.ToJson(TestChain.Build(1)[0]);
        if (change.Contains(':', StringComparison.Ordinal))
        {
            var node = JsonNode.Parse(text)!.AsObject();
            var (verb, rest) = (change[..change.IndexOf(':', StringComparison.Ordinal)], change[(change.IndexOf(':', StringComparison.Ordinal) + 1)..]);
            switch (verb)
            {
                case "remove":
                    node.Remove(rest);
                    break;
                case "add":
                    node[rest] = 1;
                    break;
                default:
                    var (name, value) = (rest[..rest.IndexOf('=', StringComparison.Ordinal)], rest[(rest.IndexOf('=', StringComparison.Ordinal) + 1)..]);
                    node[name] = JsonNode.Parse(value);
                    break;
            }
            text = node.ToJsonString();
        }
        else
        {
            text = change;
        }

        var error = Assert.Throws<FormatException>(() => AuditEntryJson.Parse(text));

        Assert.Contains(message, error.Message);
    }
}
