using System.Text.Json.Nodes;

namespace Cadre.Secrets;

/// <summary>Why a named secret cannot be used: <c>secret_not_found</c> or <c>secret_unreadable</c>, with a message naming it (never its value).</summary>
public sealed record SecretProblem(string Type, string Message);

/// <summary>
/// The secrets a run's definition reads, decrypted for one commit: what its templates see as
/// <c>secrets</c>, what cannot be had (missing, undecryptable), and the redactor for everything the
/// commit writes. Lives in memory only; nothing here is ever stored.
/// </summary>
internal sealed class ResolvedSecrets
{
    private readonly Dictionary<string, string> _values;
    private JsonObject? _scope;

    public ResolvedSecrets(IReadOnlyDictionary<string, string> values, IReadOnlyDictionary<string, SecretProblem> problems, SecretRedactor? redactor = null)
    {
        _values = new Dictionary<string, string>(values, StringComparer.Ordinal);
        Problems = problems;
        Redactor = redactor ?? new SecretRedactor();
        foreach (var (name, value) in _values)
        {
            Redactor.Add(name, value);
        }
    }

    /// <summary>No secrets: nothing to read, nothing to redact.</summary>
    public static ResolvedSecrets None => new(new Dictionary<string, string>(), new Dictionary<string, SecretProblem>());

    public IReadOnlyDictionary<string, SecretProblem> Problems { get; }

    public SecretRedactor Redactor { get; }

    /// <summary>How many values were decrypted.</summary>
    public int Count => _values.Count;

    /// <summary>What templates read as <c>secrets</c>: the decrypted values by name (built once, read-only to templates).</summary>
    public JsonObject Scope() => _scope ??= new JsonObject(_values.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)JsonValue.Create(v.Value))));

    /// <summary>The first problem among <paramref name="names"/> (in order), or null when all can be read.</summary>
    public SecretProblem? ProblemFor(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        foreach (var name in names)
        {
            if (Problems.TryGetValue(name, out var problem))
            {
                return problem;
            }
        }

        return null;
    }

    /// <summary>These values with a redactor that also knows <paramref name="earlier"/>'s (the same run's secrets as an attempt saw them).</summary>
    public ResolvedSecrets RedactingAlso(ResolvedSecrets earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        Redactor.AddAll(earlier.Redactor);
        return this;
    }

    public override string ToString() => $"ResolvedSecrets {{ {string.Join(", ", _values.Keys)} }}";
}
