namespace KeyBrake.Cli.Tests;

public sealed class TableTests
{
    [Fact]
    public void WriteTo_ColumnsPaddedToTheWidestCell_NoTrailingSpaces()
    {
        var table = new Table("ID", "LABEL", "STATUS");
        table.Add("key_1", "a-long-label", "active");
        table.Add("key_22", "b", "revoked");
        var output = new StringWriter { NewLine = "\n" };

        table.WriteTo(output);

        Assert.Equal("ID      LABEL         STATUS\nkey_1   a-long-label  active\nkey_22  b             revoked\n", output.ToString());
    }
}
