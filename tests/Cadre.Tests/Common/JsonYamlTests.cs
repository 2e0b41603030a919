using System.Text.Json.Nodes;
using Cadre.Common;
using CsCheck;

namespace Cadre.Tests.Common;

public sealed class JsonYamlTests
{
    [Fact]
    public void Parse_TypesPlainScalars_AndKeepsQuotedOnesAsText()
    {
        var node = JsonYaml.Parse("""
            name: orders
            count: 42
            ratio: 0.5
            big: 1e3
            on: true
            off: false
            nothing: null
            tilde: ~
            empty:
            quotedNumber: "42"
            quotedBool: 'true'
            version: 1.0.3
            octal: 0o17
            list:
              - a
              - 2
            nested: {x: [1, "y"]}
            text: |
              line one
              line two
            """);

        node!.ToJsonString().ShouldBe(
            """{"name":"orders","count":42,"ratio":0.5,"big":1000,"on":true,"off":false,"nothing":null,"tilde":null,"empty":null,"quotedNumber":"42","quotedBool":"true","version":"1.0.3","octal":"0o17","list":["a",2],"nested":{"x":[1,"y"]},"text":"line one\nline two"}""");
    }

    [Theory]
    [InlineData("a: [1, 2", "not valid YAML")]
    [InlineData("a: 1\na: 2", "Duplicate key")]
    [InlineData("? [a, b]\n: 1", "plain text")]
    [InlineData("a: 1\n---\nb: 2", "several")]
    public void Parse_RefusesWhatIsNotOneJsonDocument(string yaml, string message) =>
        Should.Throw<JsonYamlException>(() => JsonYaml.Parse(yaml)).Message.ShouldContain(message);

    [Fact]
    public void Parse_RefusesAliasBombs()
    {
        var yaml = """
            a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
            b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
            c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
            d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
            e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
            f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
            """;

        Should.Throw<JsonYamlException>(() => JsonYaml.Parse(yaml)).Message.ShouldContain("more than");
        Should.Throw<JsonYamlException>(() => JsonYaml.Parse(new string('[', 100) + new string(']', 100))).Message.ShouldContain("levels");
    }

    [Theory]
    [InlineData("""{"s":"true","n":"12","z":"null","e":"","t":"~","f":"1e5","neg":"-3","v":"1.0"}""")]
    [InlineData("""{"multi":"a\nb\n","trailing":"x  ","lead":" y","colon":"a: b","hash":"# no","dash":"- item","brace":"{x}","quote":"it's \"q\"","tab":"a\tb","crlf":"a\r\nb"}""")]
    [InlineData("""{"unicode":"Ünïcödé ✓ 日本","emptyList":[],"emptyObject":{},"deep":{"a":[{"b":[null,true,false,0,-1.5,12345678901234]}]}}""")]
    [InlineData("""{"template":"{{ steps.fetch.output.total + 1 }}","star":"*alias","amp":"&anchor","bang":"!tag","pipe":"| x",">":"> y"}""")]
    public void Serialize_ThenParse_GivesBackTheDocument(string json)
    {
        var node = JsonNode.Parse(json);

        var yaml = JsonYaml.Serialize(node);

        JsonYaml.Parse(yaml)!.ToJsonString().ShouldBe(node!.ToJsonString(), yaml);
    }

    [Fact]
    public void Serialize_ThenParse_GivesBackAnyGeneratedDocument()
    {
        var text = Gen.String[Gen.Char["ab :#-'\"\n\t{}[]!&*|>%@`,.0123456789eE+~ü"], 0, 12];
        var leaf = Gen.OneOf(
            text.Select(s => (JsonNode?)JsonValue.Create(s)),
            Gen.Long[-1_000_000, 1_000_000].Select(l => (JsonNode?)JsonValue.Create(l)),
            Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
            Gen.Const((JsonNode?)null));
        var json = Gen.Recursive<JsonNode?>((depth, node) => depth >= 3
            ? leaf
            : Gen.Frequency(
                (3, leaf),
                (1, node.List[0, 4].Select(items => (JsonNode?)new JsonArray([.. items.Select(i => i?.DeepClone())]))),
                (1, Gen.Select(text.List[0, 4], node.List[0, 4], (keys, values) =>
                {
                    var obj = new JsonObject();
                    foreach (var (key, value) in keys.Distinct().Zip(values))
                    {
                        obj[key] = value?.DeepClone();
                    }

                    return (JsonNode?)obj;
                }))));

        json.Where(n => n is JsonObject or JsonArray).Sample(node => JsonYaml.Parse(JsonYaml.Serialize(node))!.ToJsonString() == node!.ToJsonString(), iter: 3000);
    }
}
