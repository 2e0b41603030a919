using System.Text;
using Cadre.Triggers;

namespace Cadre.Tests.Triggers;

public sealed class WebhookSignaturesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":1,"payload":"hello"}""");
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string OldSecret = "whsec_b2xkIHNlY3JldCBvbGQgc2VjcmV0";

    private static SignatureFailure Check(string style, Dictionary<string, string> headers, params string[] secrets) =>
        WebhookSignatures.Verify(style, headers, Body, secrets, Now, WebhookSignatures.DefaultTolerance);

    private static Dictionary<string, string> Standard(string secret, long timestamp, string id = "msg_1") => new()
    {
        ["webhook-id"] = id,
        ["webhook-timestamp"] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["webhook-signature"] = WebhookSignatures.SignStandard(secret, id, timestamp, Body),
    };

    [Fact]
    public void Standard_MatchesThePublishedExample()
    {
        // The Standard Webhooks specification's own test vector.
        var body = Encoding.UTF8.GetBytes("""{"test": 2432232314}""");
        var signature = WebhookSignatures.SignStandard("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        signature.ShouldBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    [Fact]
    public void Standard_AcceptsAGoodSignature_FromAnyActiveSecret()
    {
        var now = Now.ToUnixTimeSeconds();
        Check("standard", Standard(Secret, now), Secret).ShouldBe(SignatureFailure.None);
        Check("standard", Standard(OldSecret, now), Secret, OldSecret).ShouldBe(SignatureFailure.None);
        var several = Standard(Secret, now);
        several["webhook-signature"] = "v1,bm90IGl0 " + several["webhook-signature"];
        Check("standard", several, Secret).ShouldBe(SignatureFailure.None);
    }

    [Fact]
    public void Standard_RefusesMissingBadStaleAndFutureSignatures()
    {
        var now = Now.ToUnixTimeSeconds();
        Check("standard", Standard(Secret, now)).ShouldBe(SignatureFailure.MissingSecret);
        Check("standard", new Dictionary<string, string> { ["webhook-id"] = "msg_1" }, Secret).ShouldBe(SignatureFailure.MissingHeader);
        Check("standard", Standard(OldSecret, now), Secret).ShouldBe(SignatureFailure.BadSignature);
        Check("standard", Standard(Secret, now - 301), Secret).ShouldBe(SignatureFailure.StaleTimestamp);
        Check("standard", Standard(Secret, now + 301), Secret).ShouldBe(SignatureFailure.FutureTimestamp);
        var garbled = Standard(Secret, now);
        garbled["webhook-timestamp"] = "soon";
        Check("standard", garbled, Secret).ShouldBe(SignatureFailure.MalformedHeader);
        var replayedId = Standard(Secret, now);
        replayedId["webhook-id"] = "msg_2";
        Check("standard", replayedId, Secret).ShouldBe(SignatureFailure.BadSignature);
    }

    [Fact]
    public void GitHub_AcceptsGood_RefusesMissingMalformedAndBad()
    {
        Check("github", new() { ["x-hub-signature-256"] = WebhookSignatures.SignGitHub("It's a Secret to Everybody", Body) }, "It's a Secret to Everybody").ShouldBe(SignatureFailure.None);
        Check("github", new(), "s").ShouldBe(SignatureFailure.MissingHeader);
        Check("github", new() { ["x-hub-signature-256"] = "sha1=abc" }, "s").ShouldBe(SignatureFailure.MalformedHeader);
        Check("github", new() { ["x-hub-signature-256"] = WebhookSignatures.SignGitHub("other", Body) }, "s").ShouldBe(SignatureFailure.BadSignature);
    }

    [Fact]
    public void GitHub_MatchesGitHubsDocumentedExample()
    {
        // docs.github.com, "Validating webhook deliveries": secret "It's a Secret to Everybody", payload "Hello, World!".
        WebhookSignatures.SignGitHub("It's a Secret to Everybody", Encoding.UTF8.GetBytes("Hello, World!"))
            .ShouldBe("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    }

    [Fact]
    public void Stripe_AcceptsGood_RefusesStaleFutureMalformedAndBad()
    {
        var now = Now.ToUnixTimeSeconds();
        Check("stripe", new() { ["stripe-signature"] = WebhookSignatures.SignStripe("whsec_test", now, Body) }, "whsec_test").ShouldBe(SignatureFailure.None);
        Check("stripe", new() { ["stripe-signature"] = WebhookSignatures.SignStripe("whsec_test", now - 600, Body) }, "whsec_test").ShouldBe(SignatureFailure.StaleTimestamp);
        Check("stripe", new() { ["stripe-signature"] = WebhookSignatures.SignStripe("whsec_test", now + 600, Body) }, "whsec_test").ShouldBe(SignatureFailure.FutureTimestamp);
        Check("stripe", new() { ["stripe-signature"] = "v1=abcd" }, "whsec_test").ShouldBe(SignatureFailure.MalformedHeader);
        Check("stripe", new() { ["stripe-signature"] = WebhookSignatures.SignStripe("whsec_other", now, Body) }, "whsec_test").ShouldBe(SignatureFailure.BadSignature);
        Check("stripe", new(), "whsec_test").ShouldBe(SignatureFailure.MissingHeader);
    }
}
