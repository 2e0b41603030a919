using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Cadre.Storage;

/// <summary>One versioned schema change: <c>NNNN_name.sql</c>, applied once, in order, in its own transaction.</summary>
internal sealed record MigrationScript(int Version, string Name, string Sql)
{
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
}
