using System.Net;
using Cadre.Net;
using Microsoft.Extensions.Options;

namespace Cadre.Tests.Net;

public sealed class OutboundHttpTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.1.2.3")]
    [InlineData("10.0.0.8")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.10")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("2001:db8::1")]
    [InlineData("::127.0.0.2")]
    [InlineData("::2")]
    [InlineData("::169.254.169.254")]
    [InlineData("64:ff9b::7f00:2")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("2002:7f00:2::1")]
    [InlineData("2002:c0a8:101::")]
    public void IsInternal_RecognisesTheServersOwnNetworks(string address) => OutboundHttp.IsInternal(IPAddress.Parse(address)).ShouldBeTrue();

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("192.169.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.4.4")]
    [InlineData("64:ff9b::808:808")]
    [InlineData("2002:808:808::1")]
    public void IsInternal_LeavesThePublicInternet(string address) => OutboundHttp.IsInternal(IPAddress.Parse(address)).ShouldBeFalse();

    [Fact]
    public void GuardedHandler_NeverUsesAProxy_WhileTheOperatorsProvidersMay()
    {
        // Through HTTP_PROXY the address check would see only the proxy, never the destination a workspace chose.
        using var outbound = new OutboundHttp(Options.Create(new OutboundOptions()));
        using var guarded = outbound.CreateHandler(guarded: true);
        using var trusted = outbound.CreateHandler(guarded: false);

        guarded.UseProxy.ShouldBeFalse();
        guarded.ConnectCallback.ShouldNotBeNull();
        trusted.UseProxy.ShouldBeTrue();
    }
}
