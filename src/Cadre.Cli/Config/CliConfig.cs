using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Cadre.Cli.Config;

/// <summary>One named server to talk to: its URL, the API key to use and, optionally, the workspace to act in.</summary>
internal sealed class CliContextEntry
{
    public string Server { get; set; } = "";

    public string Key { get; set; } = "";

    public string? Workspace { get; set; }
}

/// <summary>
/// The contexts <c>cadre login</c> saves, kubectl-style: several named servers and the current one.
/// The file holds API keys, so it is written readable by its owner only (0600) in a directory only the
/// owner can enter (0700), and replaced whole by a rename so a crash never leaves half a file.
/// </summary>
internal sealed class CliConfig
{
    private static readonly IDeserializer Reader = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance).IgnoreUnmatchedProperties().Build();

    private static readonly ISerializer Writer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull).Build();

    public string? CurrentContext { get; set; }

    public SortedDictionary<string, CliContextEntry> Contexts { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>$CADRE_CONFIG</c>, else <c>$XDG_CONFIG_HOME/cadre/config.yaml</c>, else <c>~/.config/cadre/config.yaml</c>.</summary>
    public static string DefaultPath()
    {
        if (Environment.GetEnvironmentVariable("CADRE_CONFIG") is { Length: > 0 } configured)
        {
            return Path.GetFullPath(configured);
        }

        var configHome = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return Path.Combine(configHome, "cadre", "config.yaml");
    }

    public static CliConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            return new CliConfig();
        }

        try
        {
            var config = Reader.Deserialize<CliConfig?>(File.ReadAllText(path)) ?? new CliConfig();
            config.Contexts = new SortedDictionary<string, CliContextEntry>(config.Contexts ?? [], StringComparer.Ordinal);
            return config;
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new CliException($"The configuration file {path} is not valid YAML ({ex.Start}): {ex.Message}", ExitCodes.Usage);
        }
    }

    public void Save(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var temporary = path + $".{Environment.ProcessId}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(Writer.Serialize(this));
        }

        File.Move(temporary, path, overwrite: true);
        if (!OperatingSystem.IsWindows())
        {
            // A file that existed with wider permissions (made by hand, say) is narrowed too.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
