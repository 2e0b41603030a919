using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Runs;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Llm;

/// <summary>
/// <c>triage</c>: the persona's filter. The model scores every candidate's relevance to the persona
/// (a confidence from 0 to 1 and a reason, as structured output); candidates under the threshold are
/// rejected, and the strategy picks among the rest: <c>highest_confidence</c> (one),
/// <c>first_match</c> (the first in the given order), <c>all_above_threshold</c> (all, most confident
/// first) or <c>round_robin</c> (one, taking turns across runs by the run's number, so nothing is
/// stored and a retried attempt picks the same one).
/// </summary>
internal sealed class TriageActivity(IServiceScopeFactory scopes, ChatClients clients) : IActivity
{
    public const double DefaultThreshold = 0.5;
    public const string DefaultStrategy = "highest_confidence";
    public const int MaxCandidates = 200;

    private static readonly JsonObject ScoresSchema = JsonNode.Parse("""
        {"type": "object", "additionalProperties": false, "required": ["scores"], "properties": {
          "scores": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["index", "confidence", "reason"], "properties": {
            "index": {"type": "integer", "minimum": 0}, "confidence": {"type": "number", "minimum": 0, "maximum": 1}, "reason": {"type": "string"}}}}}}
        """)!.AsObject();

    public string Name => "triage";

    public bool IsPure => false;

    public async Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var input = context.Input as JsonObject ?? [];
        if (input["candidates"] is not JsonArray { Count: > 0 and <= MaxCandidates } candidates)
        {
            return ActivityOutcome.Failure("invalid_input", $"candidates must be an array of 1 to {MaxCandidates} items.", retryable: false);
        }

        await using var scope = scopes.CreateAsyncScope();
        var (call, failure) = await ModelCall.ResolveAsync(context, input, scope.ServiceProvider, cancellationToken);
        if (call is null)
        {
            return failure!;
        }

        var threshold = (double?)input["confidenceThreshold"] ?? call.Persona?.Filter?.ConfidenceThreshold ?? DefaultThreshold;
        var strategy = (string?)input["issueSelectionStrategy"] ?? call.Persona?.Filter?.IssueSelectionStrategy ?? DefaultStrategy;
        var options = call.Options.Clone();
        options.ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonSerializer.SerializeToElement(ScoresSchema), "scores");
        using var client = clients.Create(call.Provider, call.Model, call.Options.MaxOutputTokens);
        var updates = new List<ChatResponseUpdate>();
        long costNanos;
        try
        {
            await ModelTurns.StreamAsync(client, Messages(input, call, candidates), options, context.Stream, updates, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return ModelTurns.Failure(call.Provider, ex);
        }
        finally
        {
            costNanos = updates.Count > 0 ? await ModelTurns.RecordUsageAsync(context, scope.ServiceProvider, call.Provider, call.Model, ModelTurns.Usage(updates)) : 0;
        }

        var answer = updates.ToChatResponse().Text;
        var (json, problem) = ModelTurns.Check(ScoresSchema, answer);
        if (problem is not null)
        {
            return ActivityOutcome.Failure("invalid_output", $"The model was asked to score the candidates as JSON. {problem}", retryable: true, new JsonObject { ["text"] = answer });
        }

        var scores = Scores(json!, candidates);
        var above = scores.Where(s => s.Confidence >= threshold).ToList();
        var selected = strategy switch
        {
            "first_match" => above.Take(1).ToList(),
            "all_above_threshold" => [.. above.OrderByDescending(s => s.Confidence)],
            "round_robin" => above.Count == 0 ? [] : [above[(int)(RunNumber(context) % above.Count)]],
            _ => above.OrderByDescending(s => s.Confidence).Take(1).ToList(),
        };
        context.Log.Info($"Triage kept {selected.Count} of {candidates.Count} candidates ({above.Count} at or above {threshold.ToString(CultureInfo.InvariantCulture)}, {strategy}).");
        return ActivityOutcome.Success(new JsonObject
        {
            ["selected"] = new JsonArray([.. selected.Select(s => (JsonNode)s.ToJson(candidates))]),
            ["rejected"] = new JsonArray([.. scores.Except(selected).Select(s => (JsonNode)s.ToJson(candidates))]),
            ["threshold"] = threshold,
            ["strategy"] = strategy,
            ["cost"] = Money.Usd(costNanos),
        });
    }

    private static List<ChatMessage> Messages(JsonObject input, ModelCall call, JsonArray candidates)
    {
        var who = call.Instructions(null) is { } instructions ? $"You are this persona:\n{instructions}\n\n" : "";
        var system = who
            + "Decide how relevant each candidate below is to you: whether it is yours to take on. For every candidate, by its index, give a confidence from 0 "
            + "(not yours at all) to 1 (certainly yours) and a one-sentence reason. Answer with JSON only."
            + ((string?)input["instructions"] is { Length: > 0 } extra ? $"\n\n{extra}" : "");
        var listed = new JsonArray([.. candidates.Select((c, i) => (JsonNode)new JsonObject { ["index"] = i, ["candidate"] = c?.DeepClone() })]);
        return [new ChatMessage(ChatRole.System, system), new ChatMessage(ChatRole.User, listed.ToJsonString())];
    }

    // One score per candidate, in the candidates' order; a candidate the model skipped scores 0.
    private static List<Score> Scores(JsonNode json, JsonArray candidates)
    {
        var given = new Dictionary<int, Score>();
        foreach (var score in json["scores"]!.AsArray().OfType<JsonObject>())
        {
            var index = (int)score["index"]!;
            if (index < candidates.Count)
            {
                given.TryAdd(index, new Score(index, (double)score["confidence"]!, (string?)score["reason"] ?? ""));
            }
        }

        return [.. Enumerable.Range(0, candidates.Count).Select(i => given.GetValueOrDefault(i) ?? new Score(i, 0, "The model gave no score."))];
    }

    private static long RunNumber(ActivityContext context) =>
        context.Scope.Root("run")?["number"] is JsonValue number && number.TryGetValue<int>(out var n) ? Math.Max(0, n - 1) : 0;

    private sealed record Score(int Index, double Confidence, string Reason)
    {
        public JsonObject ToJson(JsonArray candidates) => new()
        {
            ["index"] = Index,
            ["candidate"] = candidates[Index]?.DeepClone(),
            ["confidence"] = Confidence,
            ["reason"] = Reason,
        };
    }
}
