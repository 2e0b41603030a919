using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Common;

namespace Cadre.Personas;

/// <summary>
/// The rules of a persona: the defaults that fill what a spec leaves out, and the checks every
/// field must pass (answered 422, naming each field by its JSON path), plus warnings for what is
/// allowed but probably wrong (a provider or model Cadre does not know yet).
/// </summary>
public static partial class PersonaRules
{
    public const int MaxInstructions = 100_000;
    public const int MaxExamples = 50;
    public const int MaxExampleLength = 10_000;
    public const int MaxListItems = 50;
    public const int MaxJsonBytes = 64 * 1024;

    public static IReadOnlyList<string> ParameterTypes { get; } = ["string", "number", "boolean", "enum", "json"];

    /// <summary>Names that are paths of the personas API, so a persona so named could not be addressed by name.</summary>
    public static IReadOnlySet<string> ReservedNames { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "drafts", "export", "import", "bulk-create", "bulk-update", "bulk-delete",
    };

    public static IReadOnlyList<string> OutputFormats { get; } = ["text", "markdown", "json"];

    public static IReadOnlyList<string> ReasoningEfforts { get; } = ["low", "medium", "high"];

    public static IReadOnlyList<string> MemoryModes { get; } = ["none", "session", "persistent"];

    public static IReadOnlyList<string> SelectionStrategies { get; } = ["highest_confidence", "first_match", "all_above_threshold", "round_robin"];

    public static IReadOnlyList<string> GuardrailKinds { get; } = ["deny_pattern", "require_pattern", "deny_topic", "max_output_chars"];

    public static IReadOnlyList<string> GuardrailActions { get; } = ["block", "warn", "redact"];

    /// <summary>Providers Cadre will speak to; others are accepted with a warning until providers are configured.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>?> KnownProviders { get; } = new Dictionary<string, IReadOnlyList<string>?>
    {
        ["openai"] = ["gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "o3", "o3-mini", "o4-mini"],
        ["anthropic"] = ["claude-opus-4-1", "claude-opus-4-0", "claude-sonnet-4-5", "claude-sonnet-4-0", "claude-haiku-4-5", "claude-3-7-sonnet-latest", "claude-3-5-haiku-latest"],
        ["mock"] = ["echo", "scripted"],
        // OpenAI-compatible hosts serve whatever models their operator installed: no list to check against.
        ["azure-openai"] = null,
        ["ollama"] = null,
        ["openrouter"] = null,
        ["groq"] = null,
        ["vllm"] = null,
        ["lmstudio"] = null,
        ["llamacpp"] = null,
    };

    /// <summary>The spec with every default filled in, strings trimmed and label lists de-duplicated: the form that is stored.</summary>
    public static PersonaSpec Normalize(PersonaSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var model = spec.Model ?? new PersonaModel();
        return new PersonaSpec
        {
            Name = spec.Name?.Trim(),
            // Like a workspace, a persona left without a full name is shown by its name.
            DisplayName = spec.DisplayName is null ? spec.Name?.Trim() : spec.DisplayName.Trim(),
            Description = Blank(spec.Description),
            AvatarUrl = Blank(spec.AvatarUrl),
            Color = Blank(spec.Color)?.ToLowerInvariant(),
            Icon = Blank(spec.Icon),
            Instructions = spec.Instructions ?? "",
            Examples = spec.Examples ?? [],
            Departments = Labels(spec.Departments),
            Tags = Labels(spec.Tags),
            // Null entries stay, for Validate to report by position.
            Parameters = (spec.Parameters ?? []).Select(p => p is null ? null! : p with { Required = p.Required ?? false, Type = p.Type?.Trim() }).ToList(),
            Model = model with
            {
                Provider = Blank(model.Provider)?.ToLowerInvariant(),
                Model = Blank(model.Model),
                OutputFormat = model.OutputFormat ?? "text",
                MaxTurns = model.MaxTurns ?? 10,
            },
            Skills = spec.Skills ?? [],
            Guardrails = new PersonaGuardrails
            {
                References = spec.Guardrails?.References ?? [],
                Rules = (spec.Guardrails?.Rules ?? []).Select(r => r is null ? null! : r with { Action = r.Action ?? "block" }).ToList(),
            },
            Memory = new PersonaMemory
            {
                Mode = spec.Memory?.Mode ?? "none",
                AutoMemory = spec.Memory?.AutoMemory ?? false,
                Bypass = spec.Memory?.Bypass ?? false,
            },
            Filter = new PersonaFilter
            {
                ConfidenceThreshold = spec.Filter?.ConfidenceThreshold ?? 0.5,
                IssueSelectionStrategy = spec.Filter?.IssueSelectionStrategy ?? "highest_confidence",
            },
            Scope = new PersonaScope
            {
                EventTypes = Labels(spec.Scope?.EventTypes),
                Sources = Labels(spec.Scope?.Sources),
                Tags = Labels(spec.Scope?.Tags),
            },
            Voice = spec.Voice,
            Flags = Labels(spec.Flags),
            Metadata = spec.Metadata ?? [],
        };
    }

    /// <summary>Checks a normalized spec; returns the warnings, adding every error to <paramref name="errors"/>.</summary>
    public static IReadOnlyList<string> Validate(PersonaSpec spec, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(errors);
        var warnings = new List<string>();

        if (string.IsNullOrEmpty(spec.Name))
        {
            errors.Add("name", "Is required.");
        }
        else if (!Slug.IsValid(spec.Name))
        {
            errors.Add("name", $"Must be {Slug.Rule}");
        }
        else if (ReservedNames.Contains(spec.Name))
        {
            errors.Add("name", $"'{spec.Name}' is reserved by the API (…/personas/{spec.Name}); choose another.");
        }

        Text.ValidateLabel(spec.DisplayName, "displayName", 100, errors);
        Length(spec.Description, "description", 2000, errors);
        if (spec.AvatarUrl is { } avatar && (avatar.Length > 2048 || !Uri.TryCreate(avatar, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")))
        {
            errors.Add("avatarUrl", "Must be an http(s) URL of at most 2048 characters.");
        }

        if (spec.Color is { } color && !HexColor().IsMatch(color))
        {
            errors.Add("color", "Must be a hex colour such as #1f6feb or #18f.");
        }

        if (spec.Icon is { } icon && (icon.Length > 64 || icon.Any(char.IsControl)))
        {
            errors.Add("icon", "Must be at most 64 characters, without control characters.");
        }

        ValidateInstructions(spec, errors);
        ValidateExamples(spec.Examples!, errors);
        LabelList(spec.Departments!, "departments", errors);
        LabelList(spec.Tags!, "tags", errors);
        ValidateParameters(spec.Parameters!, errors);
        ValidateModel(spec.Model!, errors, warnings);
        ValidateSkills(spec.Skills!, errors);
        ValidateGuardrails(spec.Guardrails!, errors);
        OneOf(spec.Memory!.Mode, MemoryModes, "memory.mode", errors);
        if (spec.Filter!.ConfidenceThreshold is < 0 or > 1 || double.IsNaN(spec.Filter.ConfidenceThreshold ?? 0))
        {
            errors.Add("filter.confidenceThreshold", "Must be between 0 and 1.");
        }

        OneOf(spec.Filter.IssueSelectionStrategy, SelectionStrategies, "filter.issueSelectionStrategy", errors);
        ValidateScope(spec.Scope!, errors);
        if (spec.Voice is { } voice)
        {
            Length(voice.Id, "voice.id", 200, errors);
            Length(voice.Name, "voice.name", 100, errors);
            JsonSize(voice.Metadata, "voice.metadata", 16 * 1024, errors);
        }

        for (var i = 0; i < spec.Flags!.Count; i++)
        {
            if (!FlagName().IsMatch(spec.Flags[i]))
            {
                errors.Add($"flags[{i}]", "Must be a lowercase slug of at most 40 characters, such as disabled or experimental.");
            }
        }

        if (spec.Flags.Count > 20)
        {
            errors.Add("flags", "Must have at most 20 flags.");
        }

        JsonSize(spec.Metadata, "metadata", MaxJsonBytes, errors);
        return warnings;
    }

    /// <summary>The parameter values a rendering uses: given values checked against each parameter's type, defaults for the rest.</summary>
    public static IReadOnlyDictionary<string, JsonNode?> ResolveParameters(PersonaSpec spec, JsonObject? given, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(errors);
        var values = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        var declared = (spec.Parameters ?? []).Where(p => p?.Name is not null).ToDictionary(p => p.Name!, StringComparer.Ordinal);
        foreach (var (name, _) in given ?? [])
        {
            if (!declared.ContainsKey(name))
            {
                errors.Add($"parameters.{name}", "Is not a parameter of this persona.");
            }
        }

        foreach (var parameter in (spec.Parameters ?? []).Where(p => p?.Name is not null))
        {
            var value = given?[parameter.Name!] ?? parameter.Default;
            if (value is null)
            {
                if (parameter.Required == true)
                {
                    errors.Add($"parameters.{parameter.Name}", "Is required and has no default.");
                }

                continue;
            }

            if (TypeError(parameter, value) is { } error)
            {
                errors.Add($"parameters.{parameter.Name}", error);
                continue;
            }

            values[parameter.Name!] = value.DeepClone();
        }

        return values;
    }

    private static void ValidateInstructions(PersonaSpec spec, ValidationErrors errors)
    {
        var instructions = spec.Instructions!;
        if (instructions.Length > MaxInstructions)
        {
            errors.Add("instructions", $"Must be at most {MaxInstructions} characters (it has {instructions.Length}).");
            return;
        }

        var template = PromptTemplate.Parse(instructions);
        foreach (var error in template.Errors)
        {
            errors.Add("instructions", error);
        }

        var declared = (spec.Parameters ?? []).Where(p => p?.Name is not null).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var used in template.Parameters.Where(name => !declared.Contains(name)))
        {
            errors.Add("instructions", $"Uses {{{{ params.{used} }}}}, but the persona has no parameter '{used}'.");
        }
    }

    private static void ValidateExamples(IReadOnlyList<PersonaExample> examples, ValidationErrors errors)
    {
        if (examples.Count > MaxExamples)
        {
            errors.Add("examples", $"Must have at most {MaxExamples} examples.");
        }

        for (var i = 0; i < examples.Count; i++)
        {
            var example = examples[i];
            var field = $"examples[{i}]";
            if (example is null)
            {
                errors.Add(field, "Must be an object.");
                continue;
            }

            var isText = example.Text is not null;
            var isExchange = example.Input is not null || example.Output is not null;
            if (isText == isExchange)
            {
                errors.Add(field, "Must be either a text ('text') or an exchange ('input' and 'output').");
                continue;
            }

            if (isText)
            {
                Required(example.Text, $"{field}.text", MaxExampleLength, errors);
            }
            else
            {
                Required(example.Input, $"{field}.input", MaxExampleLength, errors);
                Required(example.Output, $"{field}.output", MaxExampleLength, errors);
            }
        }
    }

    private static void ValidateParameters(IReadOnlyList<PersonaParameter> parameters, ValidationErrors errors)
    {
        if (parameters.Count > MaxListItems)
        {
            errors.Add("parameters", $"Must have at most {MaxListItems} parameters.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[i];
            var field = $"parameters[{i}]";
            if (parameter is null)
            {
                errors.Add(field, "Must be an object.");
                continue;
            }

            if (parameter.Name is null || !Identifier().IsMatch(parameter.Name))
            {
                errors.Add($"{field}.name", "Must be an identifier: a letter or underscore, then letters, digits or underscores (at most 64).");
            }
            else if (!seen.Add(parameter.Name))
            {
                errors.Add($"{field}.name", $"'{parameter.Name}' is already a parameter.");
            }

            if (!OneOf(parameter.Type, ParameterTypes, $"{field}.type", errors))
            {
                continue;
            }

            Length(parameter.Description, $"{field}.description", 500, errors);
            if (parameter.Type == "enum")
            {
                var values = parameter.Values ?? [];
                if (values.Count is 0 or > 100 || values.Any(v => string.IsNullOrEmpty(v) || v.Length > 100) || values.Distinct(StringComparer.Ordinal).Count() != values.Count)
                {
                    errors.Add($"{field}.values", "An enum needs 1 to 100 distinct, non-empty values of at most 100 characters.");
                    continue;
                }
            }
            else if (parameter.Values is not null)
            {
                errors.Add($"{field}.values", "Only an enum parameter has values.");
            }

            if (parameter.Default is { } value && TypeError(parameter, value) is { } error)
            {
                errors.Add($"{field}.default", error);
            }
        }
    }

    private static string? TypeError(PersonaParameter parameter, JsonNode value)
    {
        var kind = value.GetValueKind();
        return parameter.Type switch
        {
            "string" when kind != JsonValueKind.String => "Must be a string.",
            "number" when kind != JsonValueKind.Number => "Must be a number.",
            "boolean" when kind is not (JsonValueKind.True or JsonValueKind.False) => "Must be true or false.",
            "enum" when kind != JsonValueKind.String || !(parameter.Values ?? []).Contains(value.GetValue<string>()) =>
                $"Must be one of: {string.Join(", ", parameter.Values ?? [])}.",
            "json" when Encoding.UTF8.GetByteCount(value.ToJsonString()) > 16 * 1024 => "Must be at most 16 KiB of JSON.",
            _ => null,
        };
    }

    private static void ValidateModel(PersonaModel model, ValidationErrors errors, List<string> warnings)
    {
        if (model.Provider is { } provider)
        {
            if (!ProviderName().IsMatch(provider))
            {
                errors.Add("model.provider", "Must be a provider name of at most 64 lowercase letters, digits, dots, dashes or underscores.");
            }
            else if (!KnownProviders.TryGetValue(provider, out var models))
            {
                warnings.Add($"model.provider: '{provider}' is not a provider Cadre knows yet; it is checked when providers are configured.");
            }
            else if (model.Model is { } name && models is not null && !models.Contains(name))
            {
                warnings.Add($"model.model: '{name}' is not a model Cadre knows for '{provider}'; it is checked when the provider is called.");
            }
        }

        Length(model.Model, "model.model", 200, errors);
        if (model.Temperature is < 0 or > 2 || double.IsNaN(model.Temperature ?? 0))
        {
            errors.Add("model.temperature", "Must be between 0 and 2.");
        }

        if (model.MaxTokens is < 1 or > 1_000_000)
        {
            errors.Add("model.maxTokens", "Must be between 1 and 1000000.");
        }

        if (model.ReasoningEffort is not null)
        {
            OneOf(model.ReasoningEffort, ReasoningEfforts, "model.reasoningEffort", errors);
        }

        OneOf(model.OutputFormat, OutputFormats, "model.outputFormat", errors);
        if (model.OutputSchema is { } schema)
        {
            if (model.OutputFormat != "json")
            {
                errors.Add("model.outputSchema", "Only json output takes a schema; set outputFormat to json.");
            }
            else if (JsonSchemas.Check(schema) is { } problem)
            {
                errors.Add("model.outputSchema", problem);
            }
        }

        if (model.MaxTurns is < 1 or > 100)
        {
            errors.Add("model.maxTurns", "Must be between 1 and 100.");
        }
    }

    private static void ValidateSkills(IReadOnlyList<SkillReference> skills, ValidationErrors errors)
    {
        if (skills.Count > 100)
        {
            errors.Add("skills", "Must have at most 100 skills.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < skills.Count; i++)
        {
            var skill = skills[i];
            if (skill?.Ref is not { } reference || !Reference().IsMatch(reference))
            {
                errors.Add($"skills[{i}].ref", "Is required: a skill ID or name of at most 200 letters, digits and . _ : / -.");
            }
            else if (!seen.Add(reference))
            {
                errors.Add($"skills[{i}].ref", $"'{reference}' is already listed.");
            }

            JsonSize(skill?.Config, $"skills[{i}].config", 16 * 1024, errors);
        }
    }

    private static void ValidateGuardrails(PersonaGuardrails guardrails, ValidationErrors errors)
    {
        var references = guardrails.References!;
        if (references.Count > MaxListItems)
        {
            errors.Add("guardrails.references", $"Must have at most {MaxListItems} references.");
        }

        for (var i = 0; i < references.Count; i++)
        {
            if (references[i] is not { } reference || !Reference().IsMatch(reference))
            {
                errors.Add($"guardrails.references[{i}]", "Must be a guardrail ID or name of at most 200 letters, digits and . _ : / -.");
            }
        }

        var rules = guardrails.Rules!;
        if (rules.Count > MaxListItems)
        {
            errors.Add("guardrails.rules", $"Must have at most {MaxListItems} rules.");
        }

        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var field = $"guardrails.rules[{i}]";
            if (rule is null)
            {
                errors.Add(field, "Must be an object.");
                continue;
            }

            Text.ValidateLabel(rule.Name, $"{field}.name", 100, errors);
            OneOf(rule.Action, GuardrailActions, $"{field}.action", errors);
            if (!OneOf(rule.Kind, GuardrailKinds, $"{field}.kind", errors))
            {
                continue;
            }

            var value = rule.Value;
            switch (rule.Kind)
            {
                case "deny_pattern" or "require_pattern":
                    if (string.IsNullOrEmpty(value) || value.Length > 1000)
                    {
                        errors.Add($"{field}.value", "Must be a regular expression of 1 to 1000 characters.");
                        break;
                    }

                    try
                    {
                        _ = new Regex(value, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
                    }
                    catch (ArgumentException ex)
                    {
                        errors.Add($"{field}.value", $"Is not a valid regular expression: {ex.Message}");
                    }

                    break;
                case "max_output_chars":
                    if (!int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var chars) || chars < 1)
                    {
                        errors.Add($"{field}.value", "Must be a whole number of characters, at least 1.");
                    }

                    break;
                default:
                    Required(value, $"{field}.value", 200, errors);
                    break;
            }
        }
    }

    private static void ValidateScope(PersonaScope scope, ValidationErrors errors)
    {
        for (var i = 0; i < scope.EventTypes!.Count; i++)
        {
            if (!EventType().IsMatch(scope.EventTypes[i]))
            {
                errors.Add($"scope.eventTypes[{i}]", "Must be an event type such as ticket.created (letters, digits, . _ : - and * wildcards, at most 200).");
            }
        }

        if (scope.EventTypes.Count > MaxListItems)
        {
            errors.Add("scope.eventTypes", $"Must have at most {MaxListItems} event types.");
        }

        LabelList(scope.Sources!, "scope.sources", errors);
        LabelList(scope.Tags!, "scope.tags", errors);
    }

    private static void LabelList(IReadOnlyList<string> labels, string field, ValidationErrors errors)
    {
        if (labels.Count > MaxListItems)
        {
            errors.Add(field, $"Must have at most {MaxListItems} entries.");
        }

        for (var i = 0; i < labels.Count; i++)
        {
            var label = labels[i];
            if (label.Length is 0 or > 50 || label.Any(char.IsControl) || label.Contains(';', StringComparison.Ordinal))
            {
                errors.Add($"{field}[{i}]", "Must be 1 to 50 characters, without control characters or ';'.");
            }
        }
    }

    private static bool OneOf(string? value, IReadOnlyList<string> allowed, string field, ValidationErrors errors)
    {
        if (value is not null && allowed.Contains(value))
        {
            return true;
        }

        errors.Add(field, $"Must be one of: {string.Join(", ", allowed)}.");
        return false;
    }

    private static void Required(string? value, string field, int maxLength, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(field, "Is required and must not be blank.");
        }
        else
        {
            Length(value, field, maxLength, errors);
        }
    }

    private static void Length(string? value, string field, int maxLength, ValidationErrors errors)
    {
        if (value is { } text && text.Length > maxLength)
        {
            errors.Add(field, $"Must be at most {maxLength} characters.");
        }
    }

    private static void JsonSize(JsonObject? value, string field, int maxBytes, ValidationErrors errors)
    {
        if (value is not null && Encoding.UTF8.GetByteCount(value.ToJsonString()) > maxBytes)
        {
            errors.Add(field, $"Must be at most {maxBytes / 1024} KiB of JSON.");
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>Trimmed, blanks dropped, duplicates (ignoring case) dropped, first spelling kept.</summary>
    private static List<string> Labels(IReadOnlyList<string>? labels) =>
        (labels ?? []).Where(l => l is not null).Select(l => l.Trim()).Where(l => l.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    [GeneratedRegex("^#([0-9a-f]{3}|[0-9a-f]{6})$", RegexOptions.CultureInvariant)]
    private static partial Regex HexColor();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex ProviderName();

    [GeneratedRegex("^[A-Za-z0-9_.:/-]{1,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex Reference();

    [GeneratedRegex("^[A-Za-z0-9_.:*-]{1,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex EventType();

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,39}$", RegexOptions.CultureInvariant)]
    private static partial Regex FlagName();
}
