using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Runs;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Llm;

/// <summary>
/// <c>llm</c>: one completion, streamed. The system prompt is the step's <c>system</c>, else the
/// persona's instructions (their parameters at their defaults); then the step's <c>messages</c>, then
/// its <c>prompt</c> as the user's turn, with the run's files (<see cref="ModelFiles"/>). Provider and model: the step's, else the persona's, else the
/// provider's default model. With <c>outputSchema</c> the answer must be JSON following it. Tokens stream
/// as <c>message_delta</c> events; the whole answer is a <c>message</c> event, the usage a <c>usage</c>
/// event, and the cost is added to the run.
/// </summary>
internal sealed class LlmActivity(IServiceScopeFactory scopes, ChatClients clients) : IActivity
{
    public string Name => "llm";

    public bool IsPure => false;

    public async Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var input = context.Input as JsonObject ?? [];
        await using var scope = scopes.CreateAsyncScope();
        var (call, failure) = await ModelCall.ResolveAsync(context, input, scope.ServiceProvider, cancellationToken);
        if (call is null)
        {
            return failure!;
        }

        var guardrails = scope.ServiceProvider.GetRequiredService<GuardrailChecker>();
        var (checks, unknownGuardrail) = await guardrails.ForAsync(context, input, call, cancellationToken);
        if (unknownGuardrail is not null)
        {
            return unknownGuardrail;
        }

        if ((string?)input["prompt"] is { Length: > 0 } prompt)
        {
            var checkedPrompt = await guardrails.CheckAsync(checks, "input", prompt, context, cancellationToken);
            if (checkedPrompt.Blocked is { } blocked)
            {
                return GuardrailChecker.Blocked(blocked);
            }

            input = input.DeepClone().AsObject();
            input["prompt"] = checkedPrompt.Text;
        }

        var (files, missing) = await ModelFiles.ForAsync(context, input, scope.ServiceProvider, cancellationToken);
        if (files is null)
        {
            return missing!;
        }

        files.Log(context);
        using var client = clients.Create(call.Provider, call.Model, call.Options.MaxOutputTokens);
        var updates = new List<ChatResponseUpdate>();
        long costNanos;
        try
        {
            // An answer that output guardrails may stop or change is not shown before they have seen it.
            var stream = GuardrailChecker.HoldsBackOutput(checks) ? null : context.Stream;
            await ModelTurns.StreamAsync(client, Messages(input, call, files), call.Options, stream, updates, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Past the provider pipeline's own retries: the step's retry policy decides.
            return ModelTurns.Failure(call.Provider, ex);
        }
        finally
        {
            costNanos = updates.Count > 0 ? await ModelTurns.RecordUsageAsync(context, scope.ServiceProvider, call.Provider, call.Model, ModelTurns.Usage(updates)) : 0;
        }

        var checkedAnswer = await guardrails.CheckAsync(checks, "output", updates.ToChatResponse().Text, context, cancellationToken);
        if (checkedAnswer.Blocked is { } refused)
        {
            return GuardrailChecker.Blocked(refused);
        }

        var answer = checkedAnswer.Text;
        var usage = ModelTurns.Usage(updates);
        context.Log.Message("assistant", answer);
        var output = new JsonObject
        {
            ["text"] = answer,
            ["provider"] = call.Provider.Name,
            ["model"] = call.Model,
            ["usage"] = ModelTurns.UsageJson(usage?.InputTokenCount ?? 0, usage?.OutputTokenCount ?? 0, usage?.CachedInputTokenCount ?? 0),
            ["cost"] = Money.Usd(costNanos),
        };
        if (call.OutputSchema is { } schema)
        {
            var (json, problem) = ModelTurns.Check(schema, answer);
            if (problem is not null)
            {
                return ActivityOutcome.Failure("invalid_output", $"The model was asked for JSON following the output schema. {problem}", retryable: true,
                    new JsonObject { ["text"] = answer });
            }

            output["json"] = json;
        }

        return ActivityOutcome.Success(output);
    }

    private static List<ChatMessage> Messages(JsonObject input, ModelCall call, ModelFiles files)
    {
        var messages = new List<ChatMessage>();
        var system = (string?)input["system"] ?? call.Instructions(null);
        if (!string.IsNullOrWhiteSpace(system))
        {
            messages.Add(new ChatMessage(ChatRole.System, system));
        }

        foreach (var message in (input["messages"] as JsonArray ?? []).OfType<JsonObject>())
        {
            messages.Add(new ChatMessage(new ChatRole((string)message["role"]!), (string?)message["content"]));
        }

        // The run's files go with the prompt (or, without one, in a user message of their own).
        if ((string?)input["prompt"] is { Length: > 0 } prompt)
        {
            messages.Add(files.IsEmpty ? new ChatMessage(ChatRole.User, prompt) : files.UserMessage(files.WithNote(prompt)));
        }
        else if (!files.IsEmpty)
        {
            messages.Add(files.UserMessage(files.WithNote("")));
        }

        return messages;
    }
}

/// <summary>JSON a model wrote, read leniently: models like to wrap it in a Markdown code fence.</summary>
internal static class JsonOutput
{
    public static JsonNode? Parse(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith("```", StringComparison.Ordinal))
        {
            var firstLine = trimmed.IndexOf('\n', StringComparison.Ordinal);
            var closing = trimmed.LastIndexOf("```", StringComparison.Ordinal);
            trimmed = firstLine > 0 && closing > firstLine ? trimmed[(firstLine + 1)..closing] : trimmed;
        }

        try
        {
            return JsonNode.Parse(trimmed);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
