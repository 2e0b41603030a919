using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Common;
using Cadre.Runs;
using Microsoft.Extensions.AI;

namespace Cadre.Llm;

/// <summary>What the checks made of a text: the text to go on with (redacted where asked), the violation that blocks it, and every finding.</summary>
internal sealed record GuardrailOutcome(string Text, GuardrailViolation? Blocked, IReadOnlyList<GuardrailViolation> Violations);

/// <summary>
/// Runs guardrails around model calls: the persona's (its registry references and its own rules) and
/// the step's (<c>guardrails</c>, registry names). Input checks see the prompt before the model does;
/// output checks see the answer before it is recorded. <c>block</c> fails the step (not retried: the
/// same text would be blocked again), <c>redact</c> cuts the finding out, <c>warn</c> only records it.
/// Every finding is a warning in the run's log.
/// </summary>
internal sealed partial class GuardrailChecker(GuardrailService registry, ChatClients clients, IServiceProvider services)
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>The checks for this call, or the failure when a named guardrail does not exist.</summary>
    public async Task<(IReadOnlyList<GuardrailCheck> Checks, ActivityOutcome? Failure)> ForAsync(
        ActivityContext context, JsonObject input, ModelCall call, CancellationToken cancellationToken)
    {
        var names = (call.Persona?.Guardrails?.References ?? []).Concat((input["guardrails"] as JsonArray ?? []).Select(g => (string?)g).OfType<string>())
            .Concat(ModelCall.WorkflowSetting(context, "guardrailIds") as List<string> ?? [])
            .Concat(await registry.NamesTaggedAsync(context.WorkspaceId, ModelCall.WorkflowSetting(context, "guardrailTags") as List<string> ?? [], cancellationToken))
            .Distinct(StringComparer.Ordinal).ToList();
        var (checks, missing) = await registry.ResolveAsync(context.WorkspaceId, names, cancellationToken);
        if (missing is not null)
        {
            return ([], ActivityOutcome.Failure("guardrail_not_found", $"No guardrail '{missing}' in this workspace (see …/guardrails).", retryable: false));
        }

        // A persona's own rules check what it says.
        var own = (call.Persona?.Guardrails?.Rules ?? []).Select((rule, i) => rule.Kind switch
        {
            "max_output_chars" => new GuardrailCheck(rule.Name ?? $"rule {i + 1}", "output", "max_length",
                new JsonObject { ["max"] = int.TryParse(rule.Value, out var max) ? max : int.MaxValue }, rule.Action ?? "block"),
            "deny_topic" => new GuardrailCheck(rule.Name ?? $"rule {i + 1}", "output", "deny_topic", new JsonObject { ["phrase"] = rule.Value }, rule.Action ?? "block"),
            _ => new GuardrailCheck(rule.Name ?? $"rule {i + 1}", "output", rule.Kind!, new JsonObject { ["pattern"] = rule.Value }, rule.Action ?? "block"),
        });
        return ([.. checks, .. own], null);
    }

    /// <summary>The step's failure when a guardrail blocks: not retried, since the same text would be blocked again.</summary>
    public static ActivityOutcome Blocked(GuardrailViolation violation) =>
        ActivityOutcome.Failure("guardrail_blocked", $"Guardrail '{violation.Guardrail}' blocked the {violation.Stage}: {violation.Detail}.", retryable: false, violation.ToJson());

    /// <summary>Whether an output check could change or stop the answer, in which case it is not streamed before it is checked.</summary>
    public static bool HoldsBackOutput(IReadOnlyList<GuardrailCheck> checks) => checks.Any(c => c.Applies("output") && c.Action != "warn");

    public async Task<GuardrailOutcome> CheckAsync(IReadOnlyList<GuardrailCheck> checks, string stage, string text, ActivityContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var violations = new List<GuardrailViolation>();
        foreach (var check in checks.Where(c => c.Applies(stage)))
        {
            string? found;
            string? redacted;
            try
            {
                (found, redacted) = await EvaluateAsync(check, text, context, cancellationToken);
            }
            catch (RegexMatchTimeoutException)
            {
                // A pattern that cannot decide in time cannot vouch for the text either.
                (found, redacted) = ("the pattern took too long to decide", null);
            }

            if (found is null)
            {
                continue;
            }

            var violation = new GuardrailViolation(check.Name, stage, check.Kind, check.Action, found);
            violations.Add(violation);
            context.Log.Guardrail(violation.ToJson(), $"Guardrail '{check.Name}' ({check.Kind}, {stage}): {found} — {check.Action}.");
            if (check.Action == "block")
            {
                return new GuardrailOutcome(text, violation, violations);
            }

            if (check.Action == "redact" && redacted is not null)
            {
                text = redacted;
            }
        }

        return new GuardrailOutcome(text, null, violations);
    }

    /// <summary>What the check found (null: nothing) and, for kinds that can, the text without it.</summary>
    private async Task<(string? Found, string? Redacted)> EvaluateAsync(GuardrailCheck check, string text, ActivityContext context, CancellationToken cancellationToken)
    {
        switch (check.Kind)
        {
            case "max_length":
                var max = (int?)check.Config["max"] ?? int.MaxValue;
                return text.Length > max ? ($"{text.Length} characters, over {max}", text[..max]) : (null, null);
            case "deny_pattern":
                var deny = new Regex((string)check.Config["pattern"]!, RegexOptions.None, RegexTimeout);
                return deny.IsMatch(text) ? ("matches the denied pattern", deny.Replace(text, "[REDACTED]")) : (null, null);
            case "require_pattern":
                return new Regex((string)check.Config["pattern"]!, RegexOptions.None, RegexTimeout).IsMatch(text) ? (null, null) : ("does not match the required pattern", null);
            case "deny_topic":
                var phrase = (string)check.Config["phrase"]!;
                return text.Contains(phrase, StringComparison.OrdinalIgnoreCase)
                    ? ($"mentions '{phrase}'", Regex.Replace(text, Regex.Escape(phrase), "[REDACTED]", RegexOptions.IgnoreCase, RegexTimeout))
                    : (null, null);
            case "json_schema":
                var (_, problem) = ModelTurns.Check(check.Config["schema"]!.AsObject(), text);
                return problem is null ? (null, null) : (problem, null);
            case "pii":
                return Pii(text, [.. (check.Config["types"] as JsonArray ?? []).Select(t => (string)t!)]);
            case "llm_judge":
                return (await JudgeAsync(check, text, context, cancellationToken), null);
            default:
                return ($"unknown kind '{check.Kind}'", null);
        }
    }

    private static (string? Found, string? Redacted) Pii(string text, IReadOnlyList<string> types)
    {
        var found = new List<string>();
        if (types.Contains("card"))
        {
            text = CardNumber().Replace(text, m =>
            {
                var digits = new string([.. m.Value.Where(char.IsAsciiDigit)]);
                if (!Luhn(digits))
                {
                    return m.Value;
                }

                found.Add("a card number");
                return "[CARD]";
            });
        }

        if (types.Contains("email") && Email().IsMatch(text))
        {
            found.Add("an email address");
            text = Email().Replace(text, "[EMAIL]");
        }

        if (types.Contains("phone"))
        {
            text = PhoneCandidate().Replace(text, m =>
            {
                var digits = m.Value.Count(char.IsAsciiDigit);
                if (digits is < 9 or > 15 || DateStart().IsMatch(m.Value))
                {
                    return m.Value;
                }

                found.Add("a phone number");
                return "[PHONE]";
            });
        }

        return found.Count == 0 ? (null, null) : ($"contains {string.Join(", ", found.Distinct())}", text);
    }

    // The check digit of card numbers (ISO/IEC 7812), so ordinary long numbers are not taken for cards.
    private static bool Luhn(string digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            sum += i % 2 == 1 ? (d * 2 > 9 ? (d * 2) - 9 : d * 2) : d;
        }

        return digits.Length is >= 13 and <= 19 && sum % 10 == 0;
    }

    private static readonly JsonObject VerdictSchema = new()
    {
        ["type"] = "object",
        ["additionalProperties"] = false,
        ["required"] = new JsonArray("pass", "reason"),
        ["properties"] = new JsonObject { ["pass"] = new JsonObject { ["type"] = "boolean" }, ["reason"] = new JsonObject { ["type"] = "string" } },
    };

    /// <summary>Asks the judge persona whether the text meets the criteria; its usage is the run's like any model call's.</summary>
    private async Task<string?> JudgeAsync(GuardrailCheck check, string text, ActivityContext context, CancellationToken cancellationToken)
    {
        var (call, failure) = await ModelCall.ResolveAsync(context, new JsonObject { ["persona"] = (string?)check.Config["persona"] }, services, cancellationToken);
        if (call is null)
        {
            return $"the judge could not be asked: {((FailedOutcome)failure!).Error.Message}";
        }

        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonSerializer.SerializeToElement(VerdictSchema), "verdict") };
        List<ChatMessage> messages =
        [
            new(ChatRole.System, (call.Instructions(null) is { } who ? who + "\n\n" : "")
                + $"You judge whether a text meets these criteria:\n{(string?)check.Config["criteria"]}\nAnswer with JSON only: pass, and a one-sentence reason."),
            new(ChatRole.User, text),
        ];
        using var client = clients.Create(call.Provider, call.Model, call.Options.MaxOutputTokens);
        var updates = new List<ChatResponseUpdate>();
        try
        {
            await ModelTurns.StreamAsync(client, messages, options, stream: null, updates, cancellationToken);
        }
        finally
        {
            if (ModelTurns.Usage(updates) is { } usage)
            {
                await ModelTurns.RecordUsageAsync(context, services, call.Provider, call.Model, usage);
            }
        }

        var (json, problem) = ModelTurns.Check(VerdictSchema, updates.ToChatResponse().Text);
        return problem is not null ? $"the judge's verdict was unusable: {problem}"
            : (bool)json!["pass"]! ? null
            : $"the judge found: {(string?)json["reason"]}";
    }

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")]
    private static partial Regex Email();

    // A + or a digit, then digits grouped by spaces, dots, dashes or brackets: a candidate, which
    // counts as a phone number with 9 to 15 digits and when it is not a date.
    [GeneratedRegex(@"(?<![\w+])\+?\d[\d\s().-]{7,20}\d(?!\w)")]
    private static partial Regex PhoneCandidate();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}")]
    private static partial Regex DateStart();

    [GeneratedRegex(@"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")]
    private static partial Regex CardNumber();
}
