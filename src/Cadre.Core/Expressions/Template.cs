using System.Text;
using System.Text.Json.Nodes;

namespace Cadre.Expressions;

/// <summary>
/// Text with <c>{{ expression }}</c> placeholders; <c>\{{</c> writes literal braces. A template
/// that is exactly one placeholder keeps the expression's JSON type (<c>"{{ context.n + 1 }}"</c>
/// is the number 41); mixed text renders as a string.
/// </summary>
public sealed class Template
{
    private readonly object[] _parts;

    private Template(string source, object[] parts)
    {
        Source = source;
        _parts = parts;
    }

    public string Source { get; }

    /// <summary>Whether the text holds any placeholder at all (plain text renders as itself).</summary>
    public bool HasExpressions => _parts.Any(p => p is Expression);

    /// <summary>The expressions, in order.</summary>
    public IEnumerable<Expression> Expressions => _parts.OfType<Expression>();

    /// <summary>Parses every placeholder; a <see cref="ExpressionSyntaxException"/> gives the position in the whole text.</summary>
    public static Template Parse(string text, ExpressionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        options ??= ExpressionOptions.Default;
        var parts = new List<object>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '\\' && string.CompareOrdinal(text, i + 1, "{{", 0, 2) == 0)
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

            var end = FindClose(text, i + 2) ?? throw new ExpressionSyntaxException("'{{' is never closed with '}}'", i);
            if (literal.Length > 0)
            {
                parts.Add(literal.ToString());
                literal.Clear();
            }

            parts.Add(Expression.Parse(text[(i + 2)..end], i + 2, options));
            i = end + 2;
        }

        if (literal.Length > 0 || parts.Count == 0)
        {
            parts.Add(literal.ToString());
        }

        return new Template(text, [.. parts]);
    }

    /// <summary>The rendered value: the expression's own value for a lone placeholder, else text.</summary>
    public JsonNode? Render(ExpressionScope scope)
    {
        if (_parts is [Expression only])
        {
            return Values.Detached(only.Evaluate(scope));
        }

        if (_parts is [string plain])
        {
            return JsonValue.Create(plain);
        }

        var text = new StringBuilder();
        foreach (var part in _parts)
        {
            text.Append(part is Expression expression ? Values.ToText(expression.Evaluate(scope)) : (string)part);
            if (text.Length > BinaryNode.MaxTextLength)
            {
                throw new ExpressionEvaluationException($"A rendered text may have at most {BinaryNode.MaxTextLength} characters.");
            }
        }

        return JsonValue.Create(text.ToString());
    }

    // The "}}" that ends a placeholder, skipping string literals and the braces of object literals inside it.
    private static int? FindClose(string text, int from)
    {
        var depth = 0;
        for (var i = from; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '\'' or '"':
                    var quote = text[i];
                    for (i++; i < text.Length && text[i] != quote; i++)
                    {
                        if (text[i] == '\\')
                        {
                            i++;
                        }
                    }

                    break;
                case '{':
                    depth++;
                    break;
                case '}' when depth > 0:
                    depth--;
                    break;
                case '}' when i + 1 < text.Length && text[i + 1] == '}':
                    return i;
            }
        }

        return null;
    }
}
