using System.Text.Json.Nodes;
using Cadre.Cli.Commands;

namespace Cadre.Cli.Apply;

/// <summary>
/// Reads what <c>apply -f</c> names: files, directories (their <c>.yaml</c>, <c>.yml</c> and <c>.json</c> files,
/// recursively, in path order) or standard input; each document must say its <c>kind</c> and <c>name</c>.
/// Every problem is found before anything is applied, so a bad file never leaves a half-applied set.
/// </summary>
internal static class ManifestFiles
{
    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    public static List<ManifestItem> Read(IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var items = new List<ManifestItem>();
        var problems = new List<string>();
        foreach (var file in paths.SelectMany(Expand))
        {
            var documents = DocumentFiles.ReadAll(file);
            // A JSON array (or a YAML sequence) holds several documents, as `cadre export -f x.json` writes them.
            if (documents is [JsonArray array])
            {
                documents = [.. array.Select(node => node?.DeepClone()!)];
            }

            for (var i = 0; i < documents.Count; i++)
            {
                var source = $"{(file == "-" ? "standard input" : file)}, document {i + 1}";
                if (Item(documents[i], source, out var problem) is { } item)
                {
                    items.Add(item);
                }
                else
                {
                    problems.Add($"{source}: {problem}");
                }
            }
        }

        return problems.Count == 0
            ? items
            : throw new CliException($"Nothing was applied; fix these first:\n  {string.Join("\n  ", problems)}", ExitCodes.Usage);
    }

    private static ManifestItem? Item(JsonNode? document, string source, out string? problem)
    {
        problem = null;
        if (document is not JsonObject obj)
        {
            problem = "is not an object (kind, name and the resource's fields).";
            return null;
        }

        if (obj["kind"] is not JsonValue kindValue || !kindValue.TryGetValue<string>(out var kindText) || kindText.Length == 0)
        {
            problem = $"has no kind: one of {ManifestKind.Names}.";
            return null;
        }

        if (ManifestKind.Find(kindText) is not { } kind)
        {
            problem = $"kind '{kindText}' is not one of {ManifestKind.Names}.";
            return null;
        }

        if (obj["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name) || string.IsNullOrWhiteSpace(name))
        {
            problem = $"the {kind.Kind} has no name.";
            return null;
        }

        var body = obj.DeepClone().AsObject();
        body.Remove("kind");
        if (kind == ManifestKind.Skill)
        {
            // `kind:` says what the document is, so a skill's own kind (http, mcp) is written skillKind.
            if (!body.Remove(ManifestKind.SkillKind, out var skillKind) || skillKind is null)
            {
                problem = $"the Skill has no {ManifestKind.SkillKind} (http or mcp: the skill's own kind, which `kind:` cannot hold in a file).";
                return null;
            }

            body["kind"] = skillKind;
        }

        return new ManifestItem(kind, name, body, source);
    }

    /// <summary>The files a path names: itself, standard input, or a directory's documents (hidden ones skipped), sorted.</summary>
    private static IEnumerable<string> Expand(string path)
    {
        if (path == "-" || File.Exists(path))
        {
            return [path];
        }

        if (!Directory.Exists(path))
        {
            throw new CliException($"Cannot read {path}: there is no such file or directory.", ExitCodes.Usage);
        }

        var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
            .Where(file => Extensions.Contains(System.IO.Path.GetExtension(file), StringComparer.OrdinalIgnoreCase))
            // .git and editors' dot-files are not documents.
            .Where(file => !System.IO.Path.GetRelativePath(path, file).Split(System.IO.Path.DirectorySeparatorChar).Any(part => part.StartsWith('.')))
            .Order(StringComparer.Ordinal)
            .ToList();
        return files.Count > 0
            ? files
            : throw new CliException($"{path} holds no .yaml, .yml or .json files.", ExitCodes.Usage);
    }
}
