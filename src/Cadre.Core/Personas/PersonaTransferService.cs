using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using CsvHelper;

namespace Cadre.Personas;

/// <summary>One item read from an import file: a persona, or why it could not be read.</summary>
internal sealed record ImportItem(int Index, PersonaSpec? Spec, ServiceError? Error);

/// <summary>
/// Export (JSON, and CSV: one row per persona, stable columns, lists joined with "; ", nested
/// values as JSON, RFC 4180 quoting by CsvHelper) and import (JSON or CSV; create-only or
/// upsert by name; a dry run reports what would change without changing anything).
/// </summary>
internal sealed class PersonaTransferService(PersonaService personas)
{
    public const string ListSeparator = "; ";

    /// <summary>The CSV columns, in the order written; import takes them in any order (id, version and the times it ignores).</summary>
    public static IReadOnlyList<string> CsvColumns { get; } =
    [
        "id", "name", "displayName", "description", "avatarUrl", "color", "icon", "instructions", "examples", "departments", "tags",
        "parameters", "model.provider", "model.model", "model.temperature", "model.maxTokens", "model.reasoningEffort", "model.outputFormat",
        "model.outputSchema", "model.maxTurns", "skills", "guardrails", "memory.mode", "memory.autoMemory", "memory.bypass",
        "filter.confidenceThreshold", "filter.issueSelectionStrategy", "scope.eventTypes", "scope.sources", "scope.tags", "voice", "flags",
        "metadata", "version", "createdAt", "updatedAt",
    ];

    public async Task<ServiceResult<PersonaExportDocument>> ExportJsonAsync(string workspaceId, string workspaceName, PersonaQuery filter, DateTime now, CancellationToken cancellationToken)
    {
        var all = await personas.AllAsync(workspaceId, filter, cancellationToken);
        return all.Error is { } error
            ? error
            : new PersonaExportDocument(now, workspaceName, all.Value!.Select(p => new PersonaExport(p.Spec) { Id = p.Persona.Id, Version = p.Persona.Version }).ToList());
    }

    public async Task<ServiceResult<string>> ExportCsvAsync(string workspaceId, PersonaQuery filter, CancellationToken cancellationToken)
    {
        var all = await personas.AllAsync(workspaceId, filter, cancellationToken);
        if (all.Error is { } error)
        {
            return error;
        }

        await using var text = new StringWriter(CultureInfo.InvariantCulture);
        // RFC 4180: CRLF records, quoting only where needed. No formula escaping: the file must read back as written.
        await using (var csv = CsvWriter.Create(text, new CsvWriterOptions { NewLine = "\r\n" }, leaveOpen: true))
        {
            csv.WriteRecord([.. CsvColumns]);
            foreach (var (persona, spec) in all.Value!)
            {
                csv.WriteRecord(CsvColumns.Select(column => Cell(column, persona, spec)).ToArray());
            }
        }

        return text.ToString();
    }

    /// <summary>Reads a JSON import: an export document or a bare array. Each persona is read on its own, so one bad item does not sink the rest.</summary>
    public static ServiceResult<List<ImportItem>> ReadJson(string body)
    {
        JsonNode? root;
        try
        {
            // Duplicate members are refused here, as for every other body; JsonNode would otherwise throw on first access.
            root = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            return ServiceError.Validation("body", $"Is not valid JSON: {ex.Message.Split(" Path:")[0]}");
        }

        var list = root switch
        {
            JsonArray array => array,
            JsonObject obj when obj["personas"] is JsonArray array => array,
            _ => null,
        };
        if (list is null)
        {
            return ServiceError.Validation("body", "Must be an export document ({\"personas\": [...]}) or an array of personas.");
        }

        var items = new List<ImportItem>();
        for (var i = 0; i < list.Count; i++)
        {
            try
            {
                // An export's ID and version are history, not input: Normalize keeps only the definition.
                items.Add(new ImportItem(i, list[i].Deserialize<PersonaExport>(PersonaJson.Options),
                    list[i] is null ? ServiceError.Validation("body", "Must be a persona object.") : null));
            }
            catch (JsonException ex)
            {
                var (field, message) = JsonErrors.Describe(ex, typeof(PersonaExport));
                items.Add(new ImportItem(i, null, ServiceError.Validation(field, message)));
            }
        }

        return items;
    }

    /// <summary>Reads a CSV import with a header row. A file CsvHelper cannot read, or a column Cadre does not know, fails the whole import.</summary>
    public static ServiceResult<List<ImportItem>> ReadCsv(string body)
    {
        var options = new CsvReaderOptions
        {
            HasHeader = true,
            MalformedData = CsvMalformedDataHandling.Throw,
            FieldCountMismatch = CsvFieldCountHandling.Throw,
        };
        var items = new List<ImportItem>();
        try
        {
            using var csv = CsvReader.FromText(body, options);
            if (csv.Headers is not { Count: > 0 } header)
            {
                return ServiceError.Validation("body", "Is empty: a CSV import needs a header row, then one row per persona.");
            }

            var unknown = header.Where(column => !CsvColumns.Contains(column)).ToList();
            if (unknown.Count > 0 || !header.Contains("name"))
            {
                var errors = new ValidationErrors();
                foreach (var column in unknown)
                {
                    errors.Add("header", $"'{column}' is not a persona column; the columns are those of a CSV export.");
                }

                if (!header.Contains("name"))
                {
                    errors.Add("header", "A 'name' column is required.");
                }

                return ServiceError.Validation(errors);
            }

            var index = 0;
            while (csv.Read())
            {
                var cells = header.ToDictionary(column => column, column => csv.GetString(column) ?? "", StringComparer.Ordinal);
                items.Add(FromRow(index++, cells));
            }
        }
        catch (CsvFormatException ex)
        {
            return ServiceError.Validation("body", $"Is not readable CSV: {ex.Message}");
        }

        return items;
    }

    /// <summary>Imports items by name: creates, updates (upsert) or leaves as is, reporting each; with <paramref name="dryRun"/>, changes nothing.</summary>
    public async Task<ImportResponse> ImportAsync(
        string workspaceId, IReadOnlyList<ImportItem> items, string mode, bool dryRun, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        var results = new List<ImportItemResult>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            results.Add(await ImportOneAsync(workspaceId, item, mode, dryRun, caller, seen, cancellationToken));
        }

        return ImportResponse.Of(dryRun, mode, results);
    }

    private async Task<ImportItemResult> ImportOneAsync(
        string workspaceId, ImportItem item, string mode, bool dryRun, Caller caller, HashSet<string> seen, CancellationToken cancellationToken)
    {
        if (item.Error is { } unreadable)
        {
            return Failed(item.Index, null, unreadable);
        }

        var normalized = PersonaRules.Normalize(item.Spec!);
        var name = normalized.Name;
        var errors = new ValidationErrors();
        PersonaRules.Validate(normalized, errors);
        if (!errors.IsEmpty)
        {
            return Failed(item.Index, name, ServiceError.Validation(errors));
        }

        if (!seen.Add(name!))
        {
            return Failed(item.Index, name, ServiceError.Conflict($"'{name}' appears more than once in this import."));
        }

        var existing = await personas.FindAsync(workspaceId, name!, tracking: !dryRun, cancellationToken);
        if (existing is null)
        {
            if (dryRun)
            {
                return new ImportItemResult(item.Index, name, "create", null, 201, null, null);
            }

            var created = await personas.AddAsync(workspaceId, normalized, caller, "imported", cancellationToken);
            return created.Match(
                persona => new ImportItemResult(item.Index, name, "create", persona.Id, 201, null, null),
                error => Failed(item.Index, name, error));
        }

        if (mode == "create-only")
        {
            return Failed(item.Index, name, ServiceError.Conflict($"A persona named '{name}' exists; import with mode=upsert to update it."));
        }

        var changes = JsonDiff.Compare(JsonNode.Parse(existing.Definition), PersonaJson.ToNode(normalized));
        if (changes.Count == 0)
        {
            return new ImportItemResult(item.Index, name, "unchanged", existing.Id, 200, [], null);
        }

        if (dryRun)
        {
            return new ImportItemResult(item.Index, name, "update", existing.Id, 200, changes, null);
        }

        var updated = await personas.ReplaceAsync(existing, normalized, caller, null, "imported", cancellationToken);
        return updated.Match(
            persona => new ImportItemResult(item.Index, name, "update", persona.Id, 200, changes, null),
            error => Failed(item.Index, name, error));
    }

    private static ImportItemResult Failed(int index, string? name, ServiceError error) =>
        new(index, name, "error", null, Bulk.StatusOf(error.Kind), null, Bulk.ErrorOf(error));

    private static string Cell(string column, Persona persona, PersonaSpec spec)
    {
        var model = spec.Model ?? new PersonaModel();
        return column switch
        {
            "id" => persona.Id,
            "name" => spec.Name ?? "",
            "displayName" => spec.DisplayName ?? "",
            "description" => spec.Description ?? "",
            "avatarUrl" => spec.AvatarUrl ?? "",
            "color" => spec.Color ?? "",
            "icon" => spec.Icon ?? "",
            "instructions" => spec.Instructions ?? "",
            "examples" => Json(spec.Examples),
            "departments" => Join(spec.Departments),
            "tags" => Join(spec.Tags),
            "parameters" => Json(spec.Parameters),
            "model.provider" => model.Provider ?? "",
            "model.model" => model.Model ?? "",
            "model.temperature" => model.Temperature?.ToString("R", CultureInfo.InvariantCulture) ?? "",
            "model.maxTokens" => model.MaxTokens?.ToString(CultureInfo.InvariantCulture) ?? "",
            "model.reasoningEffort" => model.ReasoningEffort ?? "",
            "model.outputFormat" => model.OutputFormat ?? "",
            "model.outputSchema" => model.OutputSchema?.ToJsonString() ?? "",
            "model.maxTurns" => model.MaxTurns?.ToString(CultureInfo.InvariantCulture) ?? "",
            "skills" => Json(spec.Skills),
            "guardrails" => Json(spec.Guardrails),
            "memory.mode" => spec.Memory?.Mode ?? "",
            "memory.autoMemory" => Bool(spec.Memory?.AutoMemory),
            "memory.bypass" => Bool(spec.Memory?.Bypass),
            "filter.confidenceThreshold" => spec.Filter?.ConfidenceThreshold?.ToString("R", CultureInfo.InvariantCulture) ?? "",
            "filter.issueSelectionStrategy" => spec.Filter?.IssueSelectionStrategy ?? "",
            "scope.eventTypes" => Join(spec.Scope?.EventTypes),
            "scope.sources" => Join(spec.Scope?.Sources),
            "scope.tags" => Join(spec.Scope?.Tags),
            "voice" => spec.Voice is null ? "" : Json(spec.Voice),
            "flags" => Join(spec.Flags),
            "metadata" => spec.Metadata?.ToJsonString() ?? "",
            "version" => persona.Version.ToString(CultureInfo.InvariantCulture),
            "createdAt" => persona.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
            "updatedAt" => persona.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
            _ => throw new ArgumentOutOfRangeException(nameof(column), column, "Unknown CSV column."),
        };
    }

    private static ImportItem FromRow(int index, Dictionary<string, string> cells)
    {
        var errors = new ValidationErrors();
        string? Text(string column) => cells.TryGetValue(column, out var value) && value.Length > 0 ? value : null;
        List<string>? List(string column) => Text(column)?.Split(';').Select(v => v.Trim()).Where(v => v.Length > 0).ToList();
        T? Parse<T>(string column)
            where T : class
        {
            if (Text(column) is not { } json)
            {
                return null;
            }

            try
            {
                return JsonSerializer.Deserialize<T>(json, PersonaJson.Options);
            }
            catch (JsonException ex)
            {
                var (field, message) = JsonErrors.Describe(ex, typeof(T));
                errors.Add(field == "body" ? column : $"{column}.{field}", message);
                return null;
            }
        }

        double? Number(string column)
        {
            if (Text(column) is not { } text)
            {
                return null;
            }

            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            errors.Add(column, "Must be a number.");
            return null;
        }

        int? Whole(string column)
        {
            if (Text(column) is not { } text)
            {
                return null;
            }

            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            errors.Add(column, "Must be a whole number.");
            return null;
        }

        bool? Flag(string column)
        {
            if (Text(column) is not { } text)
            {
                return null;
            }

            if (bool.TryParse(text, out var value))
            {
                return value;
            }

            errors.Add(column, "Must be true or false.");
            return null;
        }

        var spec = new PersonaSpec
        {
            Name = Text("name"),
            DisplayName = Text("displayName"),
            Description = Text("description"),
            AvatarUrl = Text("avatarUrl"),
            Color = Text("color"),
            Icon = Text("icon"),
            Instructions = Text("instructions"),
            Examples = Parse<List<PersonaExample>>("examples"),
            Departments = List("departments"),
            Tags = List("tags"),
            Parameters = Parse<List<PersonaParameter>>("parameters"),
            Model = new PersonaModel
            {
                Provider = Text("model.provider"),
                Model = Text("model.model"),
                Temperature = Number("model.temperature"),
                MaxTokens = Whole("model.maxTokens"),
                ReasoningEffort = Text("model.reasoningEffort"),
                OutputFormat = Text("model.outputFormat"),
                OutputSchema = Parse<JsonObject>("model.outputSchema"),
                MaxTurns = Whole("model.maxTurns"),
            },
            Skills = Parse<List<SkillReference>>("skills"),
            Guardrails = Parse<PersonaGuardrails>("guardrails"),
            Memory = new PersonaMemory { Mode = Text("memory.mode"), AutoMemory = Flag("memory.autoMemory"), Bypass = Flag("memory.bypass") },
            Filter = new PersonaFilter { ConfidenceThreshold = Number("filter.confidenceThreshold"), IssueSelectionStrategy = Text("filter.issueSelectionStrategy") },
            Scope = new PersonaScope { EventTypes = List("scope.eventTypes"), Sources = List("scope.sources"), Tags = List("scope.tags") },
            Voice = Parse<PersonaVoice>("voice"),
            Flags = List("flags"),
            Metadata = Parse<JsonObject>("metadata"),
        };
        return errors.IsEmpty ? new ImportItem(index, spec, null) : new ImportItem(index, null, ServiceError.Validation(errors));
    }

    private static string Json<T>(T? value) => value is null ? "" : JsonSerializer.Serialize(value, PersonaJson.Options);

    private static string Join(IReadOnlyList<string>? values) => values is null ? "" : string.Join(ListSeparator, values);

    private static string Bool(bool? value) => value switch
    {
        true => "true",
        false => "false",
        null => "",
    };
}
