using Microsoft.Extensions.Configuration.EnvironmentVariables;

namespace Cadre.Server.Hosting;

/// <summary>
/// Maps <c>CADRE_*</c> environment variables onto the <c>Cadre</c> configuration section:
/// <c>CADRE_DATA_DIR</c> → <c>Cadre:DataDir</c>, <c>CADRE_RATE_LIMIT__BURST</c> → <c>Cadre:RateLimit:Burst</c>.
/// A double underscore separates sections; single underscores are dropped (configuration keys
/// ignore case, so <c>DATADIR</c> finds <c>DataDir</c>).
/// </summary>
internal sealed class CadreEnvironmentVariablesSource : IConfigurationSource
{
    public const string Prefix = "CADRE_";

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider();

    private sealed class Provider : ConfigurationProvider
    {
        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            {
                var name = (string)entry.Key;
                if (!name.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || name.Length == Prefix.Length)
                {
                    continue;
                }

                var sections = name[Prefix.Length..]
                    .Split("__", StringSplitOptions.RemoveEmptyEntries)
                    .Select(section => section.Replace("_", "", StringComparison.Ordinal));
                data["Cadre:" + string.Join(':', sections)] = entry.Value as string;
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
