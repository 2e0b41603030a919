using System.Runtime.CompilerServices;
using System.Text.Json;
using Cadre.Common;
using Microsoft.Extensions.AI;

namespace Cadre.Llm;

/// <summary>
/// The <c>mock</c> provider: a deterministic stand-in model for demos and tests, named as such
/// everywhere it appears. The model name is the script:
/// <list type="bullet">
/// <item><c>echo</c>: answers the last user message.</item>
/// <item><c>reply:&lt;text&gt;</c>: always answers the text.</item>
/// <item><c>json:&lt;json&gt;</c>: answers the JSON (for structured output).</item>
/// <item><c>tool:&lt;name&gt;:&lt;json arguments&gt;</c>: first calls the tool, then answers what it returned.</item>
/// </list>
/// A query sets the pace: <c>echo?ttft=200ms&amp;tps=50</c> waits 200 ms for the first token, then
/// streams 50 tokens (words) a second. Usage counts words: every message's in, the answer's out.
/// </summary>
internal sealed class MockChatClient(string model, TimeProvider time) : IChatClient
{
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var history = messages.ToList();
        var (script, firstToken, tokensPerSecond) = Parse(model);
        var responseId = "mock-" + Guid.NewGuid().ToString("N");
        var inputTokens = history.Sum(m => Words(m.Text).Length + m.Contents.OfType<FunctionResultContent>().Sum(r => Words(r.Result?.ToString()).Length));
        if (firstToken > TimeSpan.Zero)
        {
            await Task.Delay(firstToken, time, cancellationToken);
        }

        if (script.StartsWith("tool:", StringComparison.Ordinal) && !history.Any(m => m.Contents.OfType<FunctionResultContent>().Any()))
        {
            var (name, arguments) = ToolCall(script);
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallContent("call_" + responseId[5..17], name, arguments)])
            {
                ResponseId = responseId, ModelId = model, FinishReason = ChatFinishReason.ToolCalls,
            };
            yield return Usage(responseId, inputTokens, 1);
            yield break;
        }

        var answer = Answer(script, history);
        var words = Words(answer);
        for (var i = 0; i < words.Length; i++)
        {
            if (i > 0 && tokensPerSecond > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(1 / tokensPerSecond), time, cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();
            yield return new ChatResponseUpdate(ChatRole.Assistant, (i == 0 ? "" : " ") + words[i]) { ResponseId = responseId, ModelId = model };
        }

        yield return new ChatResponseUpdate { ResponseId = responseId, ModelId = model, FinishReason = ChatFinishReason.Stop, Role = ChatRole.Assistant };
        yield return Usage(responseId, inputTokens, Math.Max(1, words.Length));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType?.IsInstanceOfType(this) == true ? this
        : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("mock", null, model)
        : null;

    public void Dispose()
    {
    }

    /// <summary>Whether <paramref name="model"/> is a script the mock can follow; null when it is, else why not.</summary>
    public static string? Check(string model)
    {
        try
        {
            var (script, _, _) = Parse(model);
            if (script.StartsWith("tool:", StringComparison.Ordinal))
            {
                _ = ToolCall(script);
            }
            else if (script.StartsWith("json:", StringComparison.Ordinal))
            {
                _ = JsonDocument.Parse(script[5..]);
            }
            else if (script != "echo" && !script.StartsWith("reply:", StringComparison.Ordinal))
            {
                return "the mock's model is echo, reply:<text>, json:<json> or tool:<name>:<json arguments>, optionally with ?ttft=<duration>&tps=<tokens per second>.";
            }

            return null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return ex.Message;
        }
    }

    private static string Answer(string script, List<ChatMessage> history)
    {
        if (script.StartsWith("reply:", StringComparison.Ordinal))
        {
            return script[6..];
        }

        if (script.StartsWith("json:", StringComparison.Ordinal))
        {
            return script[5..];
        }

        if (script.StartsWith("tool:", StringComparison.Ordinal))
        {
            var result = history.SelectMany(m => m.Contents.OfType<FunctionResultContent>()).Last();
            return $"The tool answered: {JsonSerializer.Serialize(result.Result)}";
        }

        return history.LastOrDefault(m => m.Role == ChatRole.User)?.Text is { Length: > 0 } text ? text : "(nothing to echo)";
    }

    private static (string Name, Dictionary<string, object?> Arguments) ToolCall(string script)
    {
        var rest = script[5..];
        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new FormatException("A mock tool script is tool:<name>:<json arguments>.");
        }

        var arguments = JsonSerializer.Deserialize<Dictionary<string, object?>>(rest[(colon + 1)..])
            ?? throw new FormatException("A mock tool call's arguments must be a JSON object.");
        return (rest[..colon], arguments);
    }

    private static (string Script, TimeSpan FirstToken, double TokensPerSecond) Parse(string model)
    {
        var question = model.LastIndexOf('?');
        if (question < 0 || model.StartsWith("json:", StringComparison.Ordinal) && model.LastIndexOf('}') > question)
        {
            return (model, TimeSpan.Zero, 0);
        }

        var firstToken = TimeSpan.Zero;
        double tokensPerSecond = 0;
        foreach (var pair in model[(question + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, v) : (pair, "");
            if (key == "ttft" && Durations.TryParse(value, out var wait) && wait <= TimeSpan.FromMinutes(5))
            {
                firstToken = wait;
            }
            else if (key == "tps" && double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var rate) && rate is > 0 and <= 100_000)
            {
                tokensPerSecond = rate;
            }
            else
            {
                throw new FormatException($"'{pair}': the mock's pace is ttft=<duration up to 5m> and tps=<tokens per second up to 100000>.");
            }
        }

        return (model[..question], firstToken, tokensPerSecond);
    }

    private static string[] Words(string? text) => (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    private static ChatResponseUpdate Usage(string responseId, int input, int output) =>
        new(ChatRole.Assistant, [new UsageContent(new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output })])
        {
            ResponseId = responseId,
        };
}
