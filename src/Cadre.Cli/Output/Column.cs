using System.Text.Json.Nodes;

namespace Cadre.Cli.Output;

/// <summary>A column of a table: its heading and how a cell is read from an item.</summary>
internal sealed record Column(string Heading, Func<JsonNode, string?> Read)
{
    /// <summary>A column showing the member at a dotted path (<c>lastRun.status</c>).</summary>
    public static Column Of(string heading, string path) => new(heading, item => Printer.Scalar(Printer.At(item, path)));
}
