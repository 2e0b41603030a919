using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cadre.Personas;

/// <summary>
/// The placeholders of a persona's instructions: <c>{{ params.name }}</c>, optionally with a path
/// into a json parameter (<c>{{ params.config.region }}</c>); <c>\{{</c> writes a literal <c>{{</c>.
/// Written by hand because it is only this; the general expression language of workflows (DESIGN
/// §4) will parse the same syntax and more.
/// </summary>
public sealed partial class PromptTemplate
{
    private readonly List<(string? Text, string[]? Path)> _parts;

    private PromptTemplate(List<(string? Text, string[]? Path)> parts, IReadOnlyList<string> errors)
    {
        _parts = parts;
        Errors = errors;
    }

    /// <summary>What is wrong with the template: unclosed braces, placeholders that are not parameters.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>The parameter names the template uses.</summary>
    public IEnumerable<string> Parameters => _parts.Where(p => p.Path is not null).Select(p => p.Path![0]).Distinct(StringComparer.Ordinal);

    public static PromptTemplate Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = new List<(string? Text, string[]? Path)>();
        var errors = new List<string>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '\\' && i + 2 < text.Length && string.CompareOrdinal(text, i + 1, "{{", 0, 2) == 0)
            {
                literal.Append("{{");
                i += 3;
                continue;
            }

            if (string.CompareOrdinal(text, i, "{{", 0, 2) != 0)
            {
                literal.Append(text[i++]);
                continue;
            }

            var close = text.IndexOf("}}", i + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                errors.Add($"'{{{{' at character {i + 1} is never closed with '}}}}'.");
                literal.Append(text[i..]);
                break;
            }

            var expression = text[(i + 2)..close].Trim();
            var match = ParameterPath().Match(expression);
            if (match.Success)
            {
                if (literal.Length > 0)
                {
                    parts.Add((literal.ToString(), null));
                    literal.Clear();
                }

                parts.Add((null, expression["params.".Length..].Split('.')));
            }
            else
            {
                errors.Add($"'{{{{ {expression} }}}}' is not a placeholder Cadre knows; use {{{{ params.<name> }}}} (write \\{{{{ for literal braces).");
                literal.Append(text[i..(close + 2)]);
            }

            i = close + 2;
        }

        if (literal.Length > 0)
        {
            parts.Add((literal.ToString(), null));
        }

        return new PromptTemplate(parts, errors);
    }

    /// <summary>
    /// Renders with resolved parameter values: strings as they are, other JSON as compact JSON, a path
    /// into a json value as the value found there (empty when there is none).
    /// </summary>
    public string Render(IReadOnlyDictionary<string, JsonNode?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var output = new StringBuilder();
        foreach (var (text, path) in _parts)
        {
            if (text is not null)
            {
                output.Append(text);
                continue;
            }

            JsonNode? node = values.GetValueOrDefault(path![0]);
            foreach (var segment in path.Skip(1))
            {
                node = node is JsonObject obj ? obj[segment] : null;
            }

            output.Append(node switch
            {
                null => "",
                JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
                _ => node.ToJsonString(),
            });
        }

        return output.ToString();
    }

    [GeneratedRegex(@"^params\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex ParameterPath();
}
