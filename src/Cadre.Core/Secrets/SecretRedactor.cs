using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cadre.Secrets;

/// <summary>
/// Replaces the values of the secrets a run used with <c>[secret:NAME]</c> wherever the run's
/// records are written: text, and JSON (inside string values only, so the document keeps its
/// shape). A value is also found URL-encoded (a query string an echo server returns) and as JSON
/// escapes it. Redacting twice changes nothing: markers already in a text are left alone. Values
/// shorter than <see cref="SecretRules.MinRedactedLength"/> are not searched for. Safe to share
/// between threads; <see cref="Add"/> may be called while others redact.
/// </summary>
internal sealed partial class SecretRedactor
{
    private static readonly JavaScriptEncoder Relaxed = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    private readonly Lock _gate = new();
    private volatile Snapshot _snapshot = Snapshot.Empty;

    /// <summary>Whether there is nothing to redact (the run reads no secrets).</summary>
    public bool IsEmpty => _snapshot.Forms.Length == 0;

    /// <summary>The names whose values are redacted, for tests and diagnostics.</summary>
    public IReadOnlyCollection<string> Names => _snapshot.Names;

    /// <summary>Redacts <paramref name="value"/> from now on, as <c>[secret:<paramref name="name"/>]</c>.</summary>
    public void Add(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        lock (_gate)
        {
            _snapshot = _snapshot.With(name, value);
        }
    }

    /// <summary>Redacts what <paramref name="other"/> redacts, too.</summary>
    public void AddAll(SecretRedactor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (name, value) in other._snapshot.Values)
        {
            Add(name, value);
        }
    }

    public static string Marker(string name) => $"[secret:{name}]";

    /// <summary>Whether plain <paramref name="text"/> holds a value (raw or URL-encoded).</summary>
    public bool Mentions(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        foreach (var form in _snapshot.Forms)
        {
            if (text.Contains(form.Text, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Plain text with every value replaced by its marker.</summary>
    public string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var forms = _snapshot.Forms;
        if (forms.Length == 0 || !Mentions(text))
        {
            return text;
        }

        // Markers already in the text stay as they are (a value may even read like a part of one).
        var markers = Markers().Matches(text).Select(m => (m.Index, End: m.Index + m.Length)).ToList();
        var result = new StringBuilder(text.Length);
        var position = 0;
        while (position < text.Length)
        {
            var (index, form) = NextOccurrence(text, position, forms);
            if (index < 0)
            {
                break;
            }

            if (markers.FirstOrDefault(m => index >= m.Index && index < m.End) is { End: > 0 } inside)
            {
                result.Append(text, position, inside.End - position);
                position = inside.End;
                continue;
            }

            result.Append(text, position, index - position).Append(Marker(form.Name));
            position = index + form.Text.Length;
        }

        result.Append(text, position, text.Length - position);
        return result.ToString();
    }

    /// <summary>A copy of <paramref name="node"/> with values redacted inside its strings (the same node when none is there).</summary>
    public JsonNode? Redact(JsonNode? node)
    {
        if (node is null || IsEmpty || !MentionsJson(node.ToJsonString()))
        {
            return node;
        }

        var copy = node.DeepClone();
        return RedactInPlace(copy);
    }

    /// <summary>
    /// JSON text (a stored column) with values redacted inside its strings; text that is not JSON is
    /// redacted as plain text. The text itself comes back when it holds no value.
    /// </summary>
    public string RedactJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (IsEmpty || !MentionsJson(json))
        {
            return json;
        }

        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException)
        {
            return Redact(json);
        }

        return RedactInPlace(parsed)?.ToJsonString() ?? "null";
    }

    /// <summary>
    /// For text streamed in pieces: how many characters at the end of <paramref name="text"/> could be
    /// the start of a value, to hold back until the next piece shows whether it is one.
    /// </summary>
    public int HoldBack(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var forms = _snapshot.Forms;
        var longest = forms.Length == 0 ? 0 : forms.Max(f => f.Text.Length);
        for (var length = Math.Min(longest - 1, text.Length); length > 0; length--)
        {
            var tail = text.AsSpan(text.Length - length);
            foreach (var form in forms)
            {
                if (form.Text.AsSpan().StartsWith(tail, StringComparison.Ordinal))
                {
                    return length;
                }
            }
        }

        return 0;
    }

    /// <summary>Whether JSON text holds a value in any of the ways a serializer writes it.</summary>
    private bool MentionsJson(string json)
    {
        foreach (var probe in _snapshot.JsonProbes)
        {
            if (json.Contains(probe, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private JsonNode? RedactInPlace(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(m => m.Key).ToList())
                {
                    var child = obj[key];
                    var redacted = RedactInPlace(child);
                    if (!ReferenceEquals(redacted, child))
                    {
                        obj[key] = redacted;
                    }
                }

                return obj;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    var child = array[i];
                    var redacted = RedactInPlace(child);
                    if (!ReferenceEquals(redacted, child))
                    {
                        array[i] = redacted;
                    }
                }

                return array;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is var text && Mentions(text):
                return JsonValue.Create(Redact(text));
            default:
                return node;
        }
    }

    // The earliest occurrence of any form at or after position; at one index, the longest form (forms are sorted longest first).
    private static (int Index, Form Form) NextOccurrence(string text, int position, Form[] forms)
    {
        var best = (Index: -1, Form: default(Form));
        foreach (var form in forms)
        {
            var index = text.IndexOf(form.Text, position, StringComparison.Ordinal);
            if (index >= 0 && (best.Index < 0 || index < best.Index))
            {
                best = (index, form);
            }
        }

        return best;
    }

    [GeneratedRegex(@"\[secret:[A-Za-z][A-Za-z0-9_.-]{0,80}\]", RegexOptions.CultureInvariant)]
    private static partial Regex Markers();

    private readonly record struct Form(string Name, string Text);

    private sealed record Snapshot(IReadOnlyList<(string Name, string Value)> Values, Form[] Forms, string[] JsonProbes, IReadOnlyCollection<string> Names)
    {
        public static Snapshot Empty { get; } = new([], [], [], []);

        public Snapshot With(string name, string value)
        {
            if (Values.Contains((name, value)))
            {
                return this;
            }

            List<(string Name, string Value)> values = [.. Values, (name, value)];
            var forms = new List<Form>();
            foreach (var (n, v) in values.Where(pair => pair.Item2.Length >= SecretRules.MinRedactedLength))
            {
                forms.Add(new Form(n, v));
                var encoded = Uri.EscapeDataString(v);
                if (encoded != v)
                {
                    forms.Add(new Form(n, encoded));
                }
            }

            var sorted = forms.DistinctBy(f => f.Text).OrderByDescending(f => f.Text.Length).ToArray();
            var probes = sorted.SelectMany(f => new[] { f.Text, JsonEncodedText.Encode(f.Text).ToString(), JsonEncodedText.Encode(f.Text, Relaxed).ToString() })
                .Distinct(StringComparer.Ordinal).ToArray();
            return new Snapshot(values, sorted, probes, values.Select(v => v.Name).Distinct(StringComparer.Ordinal).ToList());
        }
    }
}

/// <summary>An exception's text with secret values redacted, logged in place of the exception that held them.</summary>
internal sealed class RedactedException(string text) : Exception(text)
{
    public override string ToString() => Message;
}
