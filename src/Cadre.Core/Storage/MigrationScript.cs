using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Cadre.Storage;

/// <summary>One versioned schema change: <c>NNNN_name.sql</c>, applied once, in order, in its own transaction.</summary>
internal sealed partial record MigrationScript(int Version, string Name, string Sql)
{
    /// <summary>
    /// The oldest schema version whose builds can still run on the database once this script is
    /// applied, declared in the script's leading comments as <c>-- compatible-with: N</c> (the script
    /// is additive: builds at N and later neither miss what it removes nor break what it adds).
    /// Without the line, only builds that know this script can run on it.
    /// </summary>
    public int CompatibleWith
    {
        get
        {
            var header = Sql.ReplaceLineEndings("\n").Split('\n').Select(line => line.Trim())
                .TakeWhile(line => line.Length == 0 || line.StartsWith("--", StringComparison.Ordinal));
            foreach (var line in header)
            {
                if (CompatibleWithLine().Match(line) is { Success: true } match)
                {
                    var version = int.Parse(match.Groups["version"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
                    return version >= 1 && version <= Version
                        ? version
                        : throw new InvalidOperationException(
                            $"Migration {Version} ('{Name}') declares compatible-with: {version}; it must be between 1 and its own version.");
                }
            }

            return Version;
        }
    }

    /// <summary>SHA-256 of the script with line endings normalised: an applied script must never change.</summary>
    public string Checksum => Convert.ToHexStringLower(
        SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));

    /// <summary>The scripts embedded for one provider, ordered by version.</summary>
    public static IReadOnlyList<MigrationScript> LoadEmbedded(string providerFolder)
    {
        var assembly = typeof(MigrationScript).Assembly;
        var prefix = $"Cadre.Storage/{providerFolder}/Migrations/";
        var scripts = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(name => FromResource(assembly, name, Path.GetFileNameWithoutExtension(name[prefix.Length..])))
            .OrderBy(script => script.Version)
            .ToList();

        for (var i = 0; i < scripts.Count; i++)
        {
            if (scripts[i].Version != i + 1)
            {
                throw new InvalidOperationException(
                    $"Migration scripts for {providerFolder} must be numbered 1, 2, 3… without gaps; found {scripts[i].Version} at position {i + 1}.");
            }

            // A bad declaration fails on loading (the tests, any start), not in the middle of an upgrade.
            _ = scripts[i].CompatibleWith;
        }

        return scripts;
    }

    private static MigrationScript FromResource(Assembly assembly, string resource, string fileName)
    {
        var separator = fileName.IndexOf('_', StringComparison.Ordinal);
        if (separator <= 0 || !int.TryParse(fileName[..separator], NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            throw new InvalidOperationException($"Migration script '{resource}' must be named NNNN_description.sql.");
        }

        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return new MigrationScript(version, fileName[(separator + 1)..], reader.ReadToEnd());
    }

    [GeneratedRegex(@"^--\s*compatible-with:\s*(?<version>[0-9]+)\b")]
    private static partial Regex CompatibleWithLine();
}
