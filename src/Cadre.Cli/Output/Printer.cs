using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using YamlDotNet.Serialization;

namespace Cadre.Cli.Output;

/// <summary>
/// Writes what a command answers in the chosen <see cref="OutputFormat"/>: JSON and YAML are the API's
/// documents unchanged (so <c>-o yaml</c> output can be edited and applied), tables pick columns.
/// Messages for people (what was done) go to standard error, so standard output stays parseable.
/// </summary>
internal sealed class Printer(TextWriter output, TextWriter messages, OutputFormat format)
{
    private static readonly ISerializer Yaml = new SerializerBuilder()
        .WithIndentedSequences()
        .WithQuotingNecessaryStrings()
        .DisableAliases()
        .Build();

    public OutputFormat Format { get; } = format;

    public TextWriter Output { get; } = output;

    public TextWriter Messages { get; } = messages;

    /// <summary>A list: rows of <paramref name="columns"/>, or the items as a JSON/YAML array.</summary>
    public void List(IReadOnlyList<JsonNode> items, IReadOnlyList<Column> columns, string? footer = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(columns);
        if (Format != OutputFormat.Table)
        {
            Document(new JsonArray([.. items.Select(item => item.DeepClone())]));
            return;
        }

        if (items.Count == 0)
        {
            Messages.WriteLine("Nothing to show.");
            return;
        }

        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(Markup.Escape(column.Heading)).NoWrap());
        }

        foreach (var item in items)
        {
            table.AddRow([.. columns.Select(column => new Text(column.Read(item) ?? ""))]);
        }

        Console().Write(table);
        if (footer is not null)
        {
            Messages.WriteLine(footer);
        }
    }

    /// <summary>One item: in a table, its top-level members as name/value rows (nested ones as compact JSON).</summary>
    public void Item(JsonNode? item)
    {
        if (Format != OutputFormat.Table || item is not JsonObject members)
        {
            Document(item);
            return;
        }

        var table = new Table().Border(TableBorder.Simple).HideHeaders();
        table.AddColumn(new TableColumn("Field").NoWrap());
        table.AddColumn(new TableColumn("Value"));
        foreach (var (name, value) in members)
        {
            table.AddRow(new Text(name), new Text(Compact(value)));
        }

        Console().Write(table);
    }

    /// <summary>A document as JSON or YAML whatever <c>--output</c> says (a table falls back to JSON).</summary>
    public void Document(JsonNode? document)
    {
        if (Format == OutputFormat.Yaml)
        {
            Output.Write(ToYaml(document));
            return;
        }

        Output.WriteLine(document?.ToJsonString(Api.CadreApiClient.Json) ?? "null");
    }

    public static string ToYaml(JsonNode? document) => Yaml.Serialize(Plain(document));

    /// <summary>The member at a dotted path, or null.</summary>
    public static JsonNode? At(JsonNode? node, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject obj ? obj[part] : null;
        }

        return node;
    }

    /// <summary>A cell's text: strings bare, arrays of scalars joined with commas, anything else compact JSON.</summary>
    public static string? Scalar(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        JsonArray array when array.All(element => element is JsonValue) => string.Join(", ", array.Select(Scalar)),
        _ => node.ToJsonString(),
    };

    private static string Compact(JsonNode? node)
    {
        var text = Scalar(node) ?? "";
        return text.Length > 120 ? text[..119] + "…" : text;
    }

    /// <summary>JSON as plain objects YamlDotNet writes naturally (numbers stay numbers, strings stay strings).</summary>
    public static object? Plain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject obj => obj.ToDictionary(pair => pair.Key, pair => Plain(pair.Value)),
        JsonArray array => array.Select(Plain).ToList(),
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => value.TryGetValue<long>(out var whole) ? whole : decimal.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture),
            _ => null,
        },
        _ => null,
    };

    private IAnsiConsole Console()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Output),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
        });
        // Piped output has no terminal width: a wide one keeps each row on one line for grep and awk.
        if (System.Console.IsOutputRedirected || Output != System.Console.Out)
        {
            console.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns > 0 ? columns : 240;
        }

        return console;
    }
}
