using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Files;
using Cadre.Runs;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Llm;

/// <summary>
/// The run's uploaded files as a model step gives them to the model (docs/files.md): image attachments
/// and reference images as image content in the user's message (unless the step says <c>images:
/// false</c>), every other file by its name, type and size only. Cadre does not keep a list of which
/// models see images: it sends them, and a provider whose model cannot take them refuses the call
/// (<c>provider_error</c>, not retried), which is the step's cue to say <c>images: false</c>.
/// </summary>
internal sealed record ModelFiles(IReadOnlyList<AIContent> Images, string? Note)
{
    /// <summary>Marks the message the images go with. The bytes are added when the conversation is sent, never saved in a checkpoint.</summary>
    public const string ImagesMarker = "cadre.images";

    public static readonly ModelFiles None = new([], null);

    public bool IsEmpty => Images.Count == 0 && Note is null;

    /// <summary>The step's files, or the failure when one the run uses is gone (deleted after a failed run, before its retry).</summary>
    public static async Task<(ModelFiles? Files, ActivityOutcome? Failure)> ForAsync(
        ActivityContext context, JsonObject input, IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var run = context.Scope.Root("context");
        var attached = (run?["attachments"] as JsonArray ?? []).OfType<JsonObject>().Where(a => a["storageId"] is JsonValue).Select(a => (File: a, Reference: false));
        var references = (run?["referenceImages"] as JsonArray ?? []).OfType<JsonObject>().Select(a => (File: a, Reference: true));
        var files = attached.Concat(references).ToList();
        if (files.Count == 0)
        {
            return (None, null);
        }

        var showImages = (bool?)input["images"] != false;
        var service = services.GetRequiredService<FileService>();
        var images = new List<AIContent>();
        var shown = new HashSet<string>(StringComparer.Ordinal);
        var note = new StringBuilder("Files given with this task:");
        foreach (var (file, reference) in files)
        {
            var id = Text(file["storageId"]) ?? "";
            var name = Text(file["name"]) ?? id;
            var contentType = Text(file["contentType"]) ?? "application/octet-stream";
            var size = FilesOptions.Readable(file["size"] is JsonValue bytes && bytes.TryGetValue<long>(out var count) ? count : 0);
            var image = showImages && contentType.StartsWith("image/", StringComparison.Ordinal);
            note.Append(CultureInfo.InvariantCulture, $"\n- {name} ({contentType}, {size}){(reference ? ", a reference image" : "")}: {(image ? "shown below" : "name only")}");
            if (!image || !shown.Add(id))
            {
                continue;
            }

            if (await service.ReadAsync(context.WorkspaceId, id, cancellationToken) is not { } read)
            {
                return (null, ActivityOutcome.Failure("file_missing", $"File '{name}' ({id}), which the run uses, no longer exists.", retryable: false));
            }

            images.Add(new DataContent(read.Bytes, read.File.ContentType) { Name = name });
        }

        return (new ModelFiles(images, note.ToString()), null);
    }

    /// <summary>The prompt with the note about the files after it.</summary>
    public string WithNote(string prompt) => Note is null ? prompt : prompt.Length == 0 ? Note : $"{prompt}\n\n{Note}";

    /// <summary>A user message of <paramref name="text"/> (the prompt and the note) and the images.</summary>
    public ChatMessage UserMessage(string text) => new(ChatRole.User, [new TextContent(text), .. Images]);

    /// <summary>A user message that gets the images when the conversation is sent (see <see cref="Outgoing"/>).</summary>
    public ChatMessage MarkedUserMessage(string text)
    {
        var message = new ChatMessage(ChatRole.User, text);
        if (Images.Count > 0)
        {
            message.AdditionalProperties = new AdditionalPropertiesDictionary { [ImagesMarker] = true };
        }

        return message;
    }

    /// <summary>The conversation as sent: the marked message with the images (and without the mark).</summary>
    public IList<ChatMessage> Outgoing(List<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (Images.Count == 0 || !messages.Any(Marked))
        {
            return messages;
        }

        return [.. messages.Select(m => Marked(m) ? new ChatMessage(m.Role, [.. m.Contents, .. Images]) { AuthorName = m.AuthorName, MessageId = m.MessageId } : m)];
    }

    /// <summary>The log line saying which images went to the model.</summary>
    public void Log(ActivityContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Images.Count > 0)
        {
            context.Log.Info($"Gave the model {Images.Count} image(s): {string.Join(", ", Images.OfType<DataContent>().Select(i => i.Name))}");
        }
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static bool Marked(ChatMessage message) => message.AdditionalProperties?.ContainsKey(ImagesMarker) == true;
}
