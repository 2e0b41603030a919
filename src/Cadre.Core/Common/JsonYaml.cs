using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Cadre.Common;

/// <summary>
/// JSON documents as YAML and back, through YamlDotNet's parser and emitter. YamlDotNet maps YAML to
/// .NET objects, not to JSON values, so the typing of scalars is done here, after the YAML 1.2 core
/// schema: plain <c>true</c>/<c>false</c>, <c>null</c>/<c>~</c> and numbers are typed, everything
/// else (and every quoted scalar) is a string. Writing quotes any string that would read back as
/// another type, so a document survives the round trip exactly.
/// </summary>
public static partial class JsonYaml
{
    public const int MaxNodes = 200_000;
    public const int MaxDepth = 64;

    /// <summary>Reads one YAML document; a <see cref="JsonYamlException"/> says what is wrong and where.</summary>
    public static JsonNode? Parse(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new JsonYamlException($"Is not valid YAML: {ex.Message} (line {ex.Start.Line}, column {ex.Start.Column})", ex);
        }

        if (stream.Documents.Count > 1)
        {
            throw new JsonYamlException("Holds several YAML documents; send one.");
        }

        var budget = MaxNodes;
        return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode, 0, ref budget);
    }

    public static string Serialize(JsonNode? node)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(text);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        Write(emitter, node);
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static JsonNode? Convert(YamlNode node, int depth, ref int budget)
    {
        // Aliases reuse a node: without a budget, a few lines of anchors expand into billions (the "billion laughs").
        if (--budget < 0)
        {
            throw new JsonYamlException($"Expands to more than {MaxNodes} values.");
        }

        if (depth > MaxDepth)
        {
            throw new JsonYamlException($"Nests more than {MaxDepth} levels.");
        }

        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        throw new JsonYamlException($"Keys must be plain text (line {key.Start.Line}).");
                    }

                    if (obj.ContainsKey(name))
                    {
                        throw new JsonYamlException($"'{name}' appears twice in one mapping (line {key.Start.Line}).");
                    }

                    obj[name] = Convert(value, depth + 1, ref budget);
                }

                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children)
                {
                    array.Add(Convert(item, depth + 1, ref budget));
                }

                return array;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                throw new JsonYamlException($"Holds a YAML construct Cadre does not read (line {node.Start.Line}).");
        }
    }

    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain)
        {
            return JsonValue.Create(value);
        }

        return value switch
        {
            "" or "~" or "null" or "Null" or "NULL" => null,
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            _ when Integer().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole) => JsonValue.Create(whole),
            _ when Number().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) =>
                JsonValue.Create(number),
            _ => JsonValue.Create(value),
        };
    }

    private static void Write(Emitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                emitter.Emit(new MappingStart(null, null, isImplicit: true, MappingStyle.Block));
                foreach (var (key, value) in obj)
                {
                    WriteString(emitter, key, isKey: true);
                    Write(emitter, value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Block));
                foreach (var item in array)
                {
                    Write(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case null:
                emitter.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
                break;
            default:
                switch (node.GetValueKind())
                {
                    case JsonValueKind.String:
                        // A value made from a DateTime (or another CLR type) is text in JSON but not a string inside.
                        WriteString(emitter, node is JsonValue value && value.TryGetValue<string>(out var text) ? text : node.Deserialize<string>()!);
                        break;
                    default:
                        // Numbers and booleans as JSON writes them, plain.
                        emitter.Emit(new Scalar(null, null, node.ToJsonString(), ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
                        break;
                }

                break;
        }
    }

    private static void WriteString(Emitter emitter, string value, bool isKey = false)
    {
        // A block scalar cannot be a key.
        var style = StyleFor(value) is var chosen && isKey && chosen == ScalarStyle.Literal ? ScalarStyle.DoubleQuoted : chosen;
        emitter.Emit(new Scalar(null, null, value, style, isPlainImplicit: true, isQuotedImplicit: true));
    }

    // YamlDotNet's emitter leaves tabs and carriage returns unescaped in plain and folded text, where a
    // reader drops them; such text is double-quoted (escaped). Text that would read back as null, a
    // boolean or a number is quoted too; other multi-line text is a literal block.
    private static ScalarStyle StyleFor(string value)
    {
        var hasControl = value.Any(c => (c < ' ' && c != '\n') || c == '\x7f');
        if (hasControl || (value.Length > 0 && (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1]) && !value.EndsWith('\n'))))
        {
            return ScalarStyle.DoubleQuoted;
        }

        if (value.Contains('\n', StringComparison.Ordinal))
        {
            return value.Split('\n').Any(line => line.EndsWith(' ')) ? ScalarStyle.DoubleQuoted : ScalarStyle.Literal;
        }

        // Plain only for text that is plainly text: YamlDotNet's emitter writes some indicator-laden text plain that no reader accepts.
        return SafePlain().IsMatch(value) && Scalar(new YamlScalarNode(value) { Style = ScalarStyle.Plain }) is { } typed
            && typed.GetValueKind() == JsonValueKind.String && typed.GetValue<string>() == value
            ? ScalarStyle.Plain
            : ScalarStyle.DoubleQuoted;
    }

    [GeneratedRegex(@"^[\p{L}\p{N}_][\p{L}\p{N} _.,/()@+=~-]*(?<! )$", RegexOptions.CultureInvariant)]
    private static partial Regex SafePlain();

    [GeneratedRegex(@"^[-+]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Integer();

    // YAML 1.2 core schema numbers (decimal and floats); octal and hex forms stay text.
    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Number();
}

/// <summary>YAML that cannot be read as a JSON document.</summary>
public sealed class JsonYamlException(string message, Exception? inner = null) : Exception(message, inner);
