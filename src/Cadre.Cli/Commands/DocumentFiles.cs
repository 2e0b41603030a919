using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Cadre.Cli.Commands;

/// <summary>Reads the documents commands take with <c>-f</c>: JSON or YAML, from a file or standard input (<c>-</c>).</summary>
internal static class DocumentFiles
{
    public static JsonNode Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var documents = ReadAll(path);
        return documents.Count == 1
            ? documents[0]
            : throw new CliException($"{Describe(path)} holds {documents.Count} documents; this command takes one.", ExitCodes.Usage);
    }

    /// <summary>Every document in a file (YAML may hold several, separated by <c>---</c>).</summary>
    public static List<JsonNode> ReadAll(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"Cannot read {path}: {ex.Message}", ExitCodes.Usage);
        }

        return Parse(text, Describe(path));
    }

    public static List<JsonNode> Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            try
            {
                return [JsonNode.Parse(text) ?? throw new CliException($"{source} is empty.", ExitCodes.Usage)];
            }
            catch (JsonException ex)
            {
                throw new CliException($"{source} is not valid JSON: {ex.Message}", ExitCodes.Usage);
            }
        }

        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            var documents = stream.Documents
                .Select(document => ToJson(document.RootNode))
                .Where(node => node is not null)
                .Select(node => node!)
                .ToList();
            return documents.Count > 0 ? documents : throw new CliException($"{source} holds no document.", ExitCodes.Usage);
        }
        catch (YamlException ex)
        {
            throw new CliException($"{source} is not valid YAML (line {ex.Start.Line}): {ex.InnerException?.Message ?? ex.Message}", ExitCodes.Usage);
        }
    }

    private static string Describe(string path) => path == "-" ? "standard input" : path;

    /// <summary>
    /// YAML to JSON following YAML 1.2's core schema: plain scalars that read as null, booleans or numbers
    /// become those, anything quoted stays a string (so <c>"42"</c> is text and <c>42</c> a number).
    /// </summary>
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(pair =>
            KeyValuePair.Create(((YamlScalarNode)pair.Key).Value ?? "", ToJson(pair.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is not ScalarStyle.Plain)
        {
            return JsonValue.Create(value);
        }

        return value switch
        {
            "" or "~" or "null" or "Null" or "NULL" => null,
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            _ when long.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var whole) => JsonValue.Create(whole),
            _ when LooksNumeric(value) && decimal.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number) => JsonValue.Create(number),
            _ => JsonValue.Create(value),
        };
    }

    private static bool LooksNumeric(string value) =>
        value.Length > 0 && (char.IsAsciiDigit(value[0]) || (value.Length > 1 && value[0] is '-' or '+' or '.' && char.IsAsciiDigit(value[1])));
}
