using System.Text;
using System.Text.Json.Nodes;
using Cadre.Cli.Output;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.EventEmitters;

namespace Cadre.Cli.Apply;

/// <summary>
/// Writes the documents <c>cadre export</c> makes, as YAML people edit and review: members in the API's order,
/// text of several lines as a literal block (<c>|</c>) rather than one line of <c>\n</c>s, and strings that would
/// read back as something else (<c>"42"</c>, <c>"true"</c>, <c>""</c>) quoted, so apply reads exactly what was exported.
/// </summary>
internal static class ManifestYaml
{
    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithIndentedSequences()
        .WithQuotingNecessaryStrings()
        .DisableAliases()
        .WithEventEmitter(next => new LiteralBlocks(next))
        .Build();

    public static string Serialize(JsonNode? document) => Serializer.Serialize(Printer.Plain(document));

    /// <summary>Several documents in one file, each after a <c>---</c>.</summary>
    public static string SerializeAll(IEnumerable<JsonNode> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var text = new StringBuilder();
        foreach (var document in documents)
        {
            text.Append("---\n").Append(Serialize(document));
        }

        return text.ToString();
    }

    private sealed class LiteralBlocks(IEventEmitter next) : ChainedEventEmitter(next)
    {
        public override void Emit(ScalarEventInfo eventInfo, IEmitter emitter)
        {
            // The emitter falls back to a quoted scalar by itself where a block cannot hold the text exactly.
            if (eventInfo.Source.Value is string text && text.Contains('\n', StringComparison.Ordinal) && !text.Contains('\r', StringComparison.Ordinal))
            {
                eventInfo.Style = ScalarStyle.Literal;
            }

            base.Emit(eventInfo, emitter);
        }
    }
}
