using System.Text.Json.Nodes;
using Cadre.Secrets;

namespace Cadre.Tests.Secrets;

public sealed class SecretRedactorTests
{
    private static SecretRedactor With(params (string Name, string Value)[] secrets)
    {
        var redactor = new SecretRedactor();
        foreach (var (name, value) in secrets)
        {
            redactor.Add(name, value);
        }

        return redactor;
    }

    [Fact]
    public void Redact_Text_ReplacesEveryOccurrenceWithItsMarker()
    {
        var redactor = With(("token", "s3cr3t-value"), ("other", "another-one"));

        redactor.Redact("Bearer s3cr3t-value, again s3cr3t-value; another-one.").ShouldBe("Bearer [secret:token], again [secret:token]; [secret:other].");
        redactor.Redact("nothing here").ShouldBe("nothing here");
    }

    [Fact]
    public void Redact_ValueContainingAnother_IsRedactedAsTheLongerOne()
    {
        var redactor = With(("short", "abcd"), ("long", "abcd-efgh"));

        redactor.Redact("abcd-efgh abcd").ShouldBe("[secret:long] [secret:short]");
    }

    [Fact]
    public void Redact_Twice_ChangesNothingMore_EvenWhenTheValueReadsLikeAMarker()
    {
        var redactor = With(("secret", "secret"), ("token", "[secret:token]x"));

        var once = redactor.Redact("a secret here");
        once.ShouldBe("a [secret:secret] here");
        redactor.Redact(once).ShouldBe(once);
    }

    [Fact]
    public void Redact_UrlEncodedValue_IsFoundToo()
    {
        var redactor = With(("token", "a b/c+d=e"));

        redactor.Redact("https://x.example/?key=a%20b%2Fc%2Bd%3De&x=1").ShouldBe("https://x.example/?key=[secret:token]&x=1");
    }

    [Fact]
    public void Redact_ShortValues_AreLeftAlone()
    {
        var redactor = With(("pin", "123"));

        redactor.IsEmpty.ShouldBeTrue();
        redactor.Redact("pin 123").ShouldBe("pin 123");
    }

    [Fact]
    public void RedactJson_ChangesOnlyStringValues_KeepingTheDocumentsShape()
    {
        var redactor = With(("word", "true-ish"), ("num", "12345"));
        var json = """{"flag":true,"count":12345,"text":"it is true-ish and 12345","list":["true-ish",{"deep":"x true-ish"}],"true-ish":1}""";

        var redacted = JsonNode.Parse(redactor.RedactJson(json))!;

        ((bool)redacted["flag"]!).ShouldBeTrue();
        ((int)redacted["count"]!).ShouldBe(12345);
        ((string)redacted["text"]!).ShouldBe("it is [secret:word] and [secret:num]");
        ((string)redacted["list"]![0]!).ShouldBe("[secret:word]");
        ((string)redacted["list"]![1]!["deep"]!).ShouldBe("x [secret:word]");
        redactor.RedactJson("""{"a":"nothing"}""").ShouldBe("""{"a":"nothing"}""");
    }

    [Theory]
    [InlineData("quote\"inside")]
    [InlineData("<tag>&amp;'+")]
    [InlineData("näïve-ünïcode-ß")]
    [InlineData("line\nbreak\ttab")]
    public void RedactJson_ValuesTheSerializerEscapes_AreFoundInTheirEscapedForm(string value)
    {
        var redactor = With(("v", value));
        var json = new JsonObject { ["text"] = $"before {value} after" }.ToJsonString();

        var redacted = redactor.RedactJson(json);

        ((string)JsonNode.Parse(redacted)!["text"]!).ShouldBe("before [secret:v] after");
    }

    [Fact]
    public void RedactJson_TextThatIsNotJson_IsRedactedAsText()
    {
        With(("token", "s3cr3t-value")).RedactJson("oops s3cr3t-value {").ShouldBe("oops [secret:token] {");
    }

    [Fact]
    public void Redact_Node_ReturnsACopy_AndTheSameNodeWhenNothingIsThere()
    {
        var redactor = With(("token", "s3cr3t-value"));
        var node = new JsonObject { ["a"] = "s3cr3t-value" };
        var clean = new JsonObject { ["a"] = "clean" };

        ((string)redactor.Redact(node)!["a"]!).ShouldBe("[secret:token]");
        ((string)node["a"]!).ShouldBe("s3cr3t-value");
        redactor.Redact(clean).ShouldBeSameAs(clean);
    }

    [Theory]
    [InlineData("The key is s3cr", 4)]
    [InlineData("The key is s", 1)]
    [InlineData("The key is s3cr3t-valu", 11)]
    [InlineData("The key is done", 0)]
    [InlineData("", 0)]
    public void HoldBack_AnEndThatMayStartAValue_IsHeld(string text, int held) =>
        With(("token", "s3cr3t-value")).HoldBack(text).ShouldBe(held);

    [Fact]
    public void AddAll_RedactsTheOthersValuesToo()
    {
        var first = With(("a", "value-of-a"));
        var second = With(("b", "value-of-b"));

        first.AddAll(second);

        first.Redact("value-of-a value-of-b").ShouldBe("[secret:a] [secret:b]");
        first.Names.ShouldBe(["a", "b"], ignoreOrder: true);
    }
}
