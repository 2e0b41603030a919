using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Cadre.Llm;
using Cadre.Server.Hosting;
using Cadre.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cadre.Server.Tests.Hosting;

/// <summary>
/// The settings table in docs/operations.md against the options the server binds: every property of
/// every options class has a row with its key, a <c>CADRE_…</c> variable that really maps to that key,
/// and its default; and every row names a setting that exists.
/// </summary>
public sealed partial class SettingsReferenceTests
{
    // Options read by hand instead of by BindConfiguration: where each property's settings are.
    // A dictionary of objects stands for one setting per property of its values.
    private static readonly Dictionary<(Type, string), string> HandBound = new()
    {
        [(typeof(ProviderOptions), nameof(ProviderOptions.Providers))] = "Cadre:Providers:<name>",
        [(typeof(ProviderOptions), nameof(ProviderOptions.OpenAiApiKey))] = "OPENAI_API_KEY",
        [(typeof(ProviderOptions), nameof(ProviderOptions.OpenAiBaseUrl))] = "OPENAI_BASE_URL",
        [(typeof(ProviderOptions), nameof(ProviderOptions.AnthropicApiKey))] = "ANTHROPIC_API_KEY",
        [(typeof(ProviderOptions), nameof(ProviderOptions.AnthropicBaseUrl))] = "ANTHROPIC_BASE_URL",
        [(typeof(McpServerOptions), nameof(McpServerOptions.Servers))] = "Cadre:Mcp:Servers:<name>",
    };

    // Defaults that depend on the machine, documented as a rule instead of a value.
    private static readonly HashSet<string> MachineDependentDefaults = ["Cadre:Engine:Workers"];

    [Fact]
    public void EveryOptionsProperty_HasARowWithItsVariableAndDefault()
    {
        var rows = DocumentedRows();
        var problems = new List<string>();

        foreach (var setting in Settings())
        {
            var row = rows.FirstOrDefault(r => r.Keys.Contains(setting.Key, StringComparer.OrdinalIgnoreCase));
            if (row is null)
            {
                problems.Add($"{setting.Key} ({setting.Source}) has no row in the settings table of docs/operations.md");
                continue;
            }

            if (!row.Variables.Any(variable => MapsTo(variable, setting.Key)))
            {
                problems.Add($"{setting.Key}: none of the variables in its row ({string.Join(", ", row.Variables)}) maps to it");
            }

            if (row.Default.Length == 0)
            {
                problems.Add($"{setting.Key}: its row gives no default");
            }
            else if (setting.Default is { } value && !MachineDependentDefaults.Contains(setting.Key) && !DefaultMatches(row.Default, value))
            {
                problems.Add($"{setting.Key}: its row's default ({row.Default}) is not the code's ({value})");
            }
        }

        problems.ShouldBeEmpty(string.Join("\n", problems));
    }

    [Fact]
    public void EveryRow_NamesASettingThatExists()
    {
        var known = Settings().Select(s => s.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);

        var unknown = DocumentedRows().SelectMany(r => r.Keys).Where(key => !known.Contains(key)).ToList();

        unknown.ShouldBeEmpty($"rows for settings nothing reads: {string.Join(", ", unknown)}");
    }

    private sealed record Setting(string Key, string Source, object? Default);

    private sealed record Row(IReadOnlyList<string> Keys, IReadOnlyList<string> Variables, string Default);

    /// <summary>Every setting of every options class the server registers from configuration.</summary>
    private static List<Setting> Settings()
    {
        var builder = WebApplication.CreateBuilder();
        builder.AddCadreServer();
        var cadre = new[] { typeof(StorageOptions).Assembly, typeof(CadreServer).Assembly };
        var optionsTypes = builder.Services
            .Where(d => d.ServiceType.IsGenericType && d.ServiceType.GetGenericTypeDefinition() == typeof(IConfigureOptions<>))
            .Select(d => d.ServiceType.GenericTypeArguments[0])
            .Where(t => cadre.Contains(t.Assembly))
            .Distinct()
            .ToList();
        // BindConfiguration also registers a change token source; the others read their settings by hand.
        var bound = builder.Services
            .Where(d => d.ServiceType.IsGenericType && d.ServiceType.GetGenericTypeDefinition() == typeof(IOptionsChangeTokenSource<>))
            .Select(d => d.ServiceType.GenericTypeArguments[0])
            .ToHashSet();
        optionsTypes.ShouldNotBeEmpty();

        var settings = new List<Setting>();
        foreach (var type in optionsTypes)
        {
            var defaults = Activator.CreateInstance(type);
            var section = type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string;
            section.ShouldNotBeNull($"{type.Name} is bound from configuration but has no SectionName constant naming its section");
            foreach (var property in Properties(type))
            {
                string key;
                if (bound.Contains(type))
                {
                    key = $"{section}:{property.Name}";
                }
                else if (!HandBound.TryGetValue((type, property.Name), out key!))
                {
                    throw new InvalidOperationException($"{type.Name}.{property.Name} is read by hand: add its setting to {nameof(HandBound)} and to docs/operations.md.");
                }

                settings.AddRange(ObjectValues(property.PropertyType) is { } values
                    ? Properties(values).Select(p => new Setting($"{key}:{p.Name}", $"{values.Name}.{p.Name}", null))
                    : [new Setting(key, $"{type.Name}.{property.Name}", property.GetValue(defaults))]);
            }
        }

        return settings;
    }

    private static IEnumerable<PropertyInfo> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0);

    /// <summary>The value type of a dictionary of objects (one setting per value property), else null.</summary>
    private static Type? ObjectValues(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) && type.GenericTypeArguments[1] is { IsClass: true } value && value != typeof(string)
            ? value
            : null;

    /// <summary>The rows of the tables in docs/operations.md whose first cell names settings in backticks.</summary>
    private static List<Row> DocumentedRows()
    {
        var path = Path.Combine(RepositoryRoot(), "docs", "operations.md");
        var rows = new List<Row>();
        foreach (var line in File.ReadLines(path).Where(l => l.StartsWith('|')))
        {
            var cells = UnescapedPipe().Split(line.Trim().Trim('|')).Select(c => c.Trim()).ToList();
            if (cells.Count < 3)
            {
                continue;
            }

            var keys = Code().Matches(cells[0]).Select(m => m.Groups["code"].Value).Where(IsSettingName).ToList();
            if (keys.Count > 0)
            {
                rows.Add(new Row(keys, Code().Matches(cells[1]).Select(m => m.Groups["code"].Value).ToList(), cells[2]));
            }
        }

        rows.ShouldNotBeEmpty(path);
        return rows;
    }

    // Cadre's own settings, and the providers' conventional variables (OPENAI_API_KEY), which are their own keys.
    private static bool IsSettingName(string code) =>
        code.StartsWith("Cadre:", StringComparison.Ordinal) ||
        (SettingVariable().IsMatch(code) && !code.StartsWith(CadreEnvironmentVariablesSource.Prefix, StringComparison.Ordinal));

    /// <summary>Whether a variable sets the key: a CADRE_ variable through the server's own mapping, any other by name.</summary>
    private static bool MapsTo(string variable, string key)
    {
        if (!variable.StartsWith(CadreEnvironmentVariablesSource.Prefix, StringComparison.Ordinal))
        {
            return string.Equals(variable, key, StringComparison.Ordinal);
        }

        var mapped = "Cadre:" + CadreEnvironmentVariablesSource.KeyFor(variable[CadreEnvironmentVariablesSource.Prefix.Length..]);
        // A list or dictionary setting is given item by item (CADRE_OUTBOUND_ALLOWED_HOSTS__0).
        return mapped.Equals(key, StringComparison.OrdinalIgnoreCase) || mapped.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether the documented default (its code spans, or the cell) says the code's default value.</summary>
    private static bool DefaultMatches(string cell, object value)
    {
        var spans = Code().Matches(cell).Select(m => m.Groups["code"].Value).DefaultIfEmpty(cell.Split(' ')[0]).ToList();
        return value switch
        {
            TimeSpan time => spans.Any(s => TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var documented) && documented == time),
            bool flag => spans.Contains(flag ? "true" : "false"),
            int or long => spans.Any(s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var documented) && documented == Convert.ToInt64(value, CultureInfo.InvariantCulture)),
            string text => spans.Contains(text),
            // Collections start empty; other kinds are not checked.
            _ => true,
        };
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Cadre.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The tests run outside the repository: Cadre.slnx not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex UnescapedPipe();

    [GeneratedRegex(@"`(?<code>[^`]+)`")]
    private static partial Regex Code();

    [GeneratedRegex(@"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")]
    private static partial Regex SettingVariable();
}
