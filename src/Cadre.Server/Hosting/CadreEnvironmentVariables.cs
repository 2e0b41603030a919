using System.Collections;
using Microsoft.Extensions.Configuration.EnvironmentVariables;

namespace Cadre.Server.Hosting;

/// <summary>
/// Maps <c>CADRE_*</c> environment variables onto the <c>Cadre</c> configuration section, as
/// operators write them: <c>CADRE_DATA_DIR</c> → <c>Cadre:DataDir</c>, <c>CADRE_SMTP_HOST</c> →
/// <c>Cadre:Smtp:Host</c>, <c>CADRE_RATE_LIMIT_BURST</c> → <c>Cadre:RateLimit:Burst</c>. A name that
/// starts with a known section goes into that section; a double underscore also separates sections
/// (<c>CADRE_SMTP__HOST</c>). Single underscores are dropped within a name: configuration keys
/// ignore case, so <c>DATADIR</c> finds <c>DataDir</c>.
/// </summary>
internal sealed class CadreEnvironmentVariablesSource(IDictionary? variables = null) : IConfigurationSource
{
    public const string Prefix = "CADRE_";

    private static readonly (string Prefix, string Section)[] Sections =
    [
        ("AUTH_", "Auth"), ("ENCRYPTION_", "Encryption"), ("ENGINE_", "Engine"), ("FILES_", "Files"), ("HTTP_", "Http"), ("IDEMPOTENCY_", "Idempotency"),
        ("LOGGING_", "Logging"), ("METRICS_", "Metrics"), ("NODE_", "Node"), ("OUTBOUND_", "Outbound"), ("RATE_LIMIT_", "RateLimit"), ("RETENTION_", "Retention"), ("SCHEDULES_", "Schedules"), ("SMTP_", "Smtp"), ("TELEMETRY_", "Telemetry"), ("WEBHOOKS_", "Webhooks"),
    ];

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        // The unattended first user is an Auth setting, but the variables read better without the section.
        ["ADMIN_EMAIL"] = "Auth:AdminEmail",
        ["ADMIN_PASSWORD"] = "Auth:AdminPassword",
    };

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(variables);

    /// <summary>The configuration key for a variable name without its prefix, e.g. <c>SMTP_HOST</c> → <c>Smtp:Host</c>.</summary>
    internal static string KeyFor(string name)
    {
        if (Aliases.TryGetValue(name, out var alias))
        {
            return alias;
        }

        // "__" separates sections as usual; within the first part, a known section prefix also starts a section
        // (OUTBOUND_ALLOWED_HOSTS__0 is Outbound:AllowedHosts:0), and other underscores are ignored.
        var parts = name.Split("__", StringSplitOptions.RemoveEmptyEntries);
        return string.Join(':', parts.Select((part, i) =>
        {
            var section = Sections.FirstOrDefault(s => s.Prefix.TrimEnd('_').Equals(part, StringComparison.OrdinalIgnoreCase)).Section;
            if (section is not null)
            {
                return section;
            }

            var known = i == 0 ? Sections.FirstOrDefault(s => part.StartsWith(s.Prefix, StringComparison.OrdinalIgnoreCase)) : default;
            return known.Section is { } prefixed
                ? $"{prefixed}:{part[known.Prefix.Length..].Replace("_", "", StringComparison.Ordinal)}"
                : part.Replace("_", "", StringComparison.Ordinal);
        }));
    }

    private sealed class Provider(IDictionary? variables) : ConfigurationProvider
    {
        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (DictionaryEntry entry in variables ?? Environment.GetEnvironmentVariables())
            {
                var name = (string)entry.Key;
                if (name.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) && name.Length > Prefix.Length)
                {
                    data["Cadre:" + KeyFor(name[Prefix.Length..])] = entry.Value as string;
                }
            }

            Data = data;
        }
    }
}

internal static class CadreConfigurationExtensions
{
    /// <summary>
    /// Adds the <c>CADRE_*</c> variables above appsettings and plain environment variables, but
    /// below the command line, so <c>--Cadre:Database=…</c> still wins.
    /// </summary>
    public static IConfigurationManager AddCadreEnvironmentVariables(this IConfigurationManager configuration)
    {
        var sources = configuration.Sources;
        // The last command-line source is the application's (an earlier one feeds the host configuration).
        var commandLine = sources.ToList().FindLastIndex(source => source is Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationSource);
        var lastEnvironment = sources.ToList().FindLastIndex(source => source is EnvironmentVariablesConfigurationSource);
        var position = commandLine >= 0 ? commandLine : lastEnvironment >= 0 ? lastEnvironment + 1 : sources.Count;
        sources.Insert(position, new CadreEnvironmentVariablesSource());
        return configuration;
    }
}
