#!/usr/bin/perl
# udp-forge.pl PORT NODEPORT CLIENTPUB MS [only]: an on-path attacker at a
# front door, for the system tests.  A UDP relay on 127.0.0.1:PORT to
# 127.0.0.1:NODEPORT.  For each INIT from a client it first sends the
# client a forged RESP, made as anyone who knows the client's public key
# (the file CLIENTPUB, base64) can make one: the right size, type, version
# and reserved bytes, a random sender index, the INIT's sender index as
# receiver, random bytes for Noise message 2, a valid mac1
# (docs/PROTOCOL.md 4.3) and a zero mac2.  Then it relays the INIT to the
# node, and the node's answers back to the socket that sent the INIT (by
# the index they carry), each held MS milliseconds.  With "only", the
# node's answers are dropped: the client gets forgeries only.  Prints one
# line "forged" per forgery sent.  Loopback only; runs until it is killed.
# Core Perl only.
use strict;
use warnings;
use Digest::SHA qw(sha256 hmac_sha256);
use IO::Handle;
use IO::Select;
use IO::Socket::INET;
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(time);

@ARGV == 4 || @ARGV == 5 or
    die "usage: udp-forge.pl PORT NODEPORT CLIENTPUB MS [only]\n";
my ($port, $nport, $pubfile, $ms, $only) = @ARGV;
$only = defined $only && $only eq 'only';
open(my $f, '<', $pubfile) or die "udp-forge: $pubfile: $!\n";
my $pub = decode_base64(scalar <$f>);
close $f;
length($pub) == 32 or die "udp-forge: $pubfile: not a 32-byte key\n";
my $mac1_key = sha256('mac1----' . $pub);

# Sizes and codes from docs/PROTOCOL.md (section 4).
my ($INIT, $RESP, $VERSION, $INIT_LEN, $RESP_LEN) = (1, 2, 1, 184, 156);
my $MACLEN = 16;

my $down = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1',
    LocalPort => $port) or die "udp-forge: 127.0.0.1:$port: $!\n";
my $up = IO::Socket::INET->new(Proto => 'udp', PeerAddr => '127.0.0.1',
    PeerPort => $nport) or die "udp-forge: 127.0.0.1:$nport: $!\n";
my $sel = IO::Select->new($down, $up);
my (%who, @queue);    # sender index => client; [due, datagram, to]
STDOUT->autoflush(1);

# Random bytes (not secret: they only have to look like a message).
sub noise { join('', map { chr(int(rand(256))) } 1 .. $_[0]) }

# A forged RESP answering INIT sender index ${idx}.
sub forge {
	my ($idx) = @_;
	my $pkt = pack('CCn', $RESP, $VERSION, 0) . noise(4) . $idx .
	    noise($RESP_LEN - 12 - 2 * $MACLEN);
	return $pkt . substr(hmac_sha256($pkt, $mac1_key), 0, $MACLEN) .
	    ("\0" x $MACLEN);
}

while (1) {
	my $wait = @queue ? $queue[0][0] - time : undef;
	$wait = 0 if defined $wait && $wait < 0;
	for my $s ($sel->can_read($wait)) {
		my $buf;
		my $from = recv($s, $buf, 65536, 0);
		next unless defined $from;
		next if length($buf) < 12;
		if ($s == $down) {
			my $idx = substr($buf, 4, 4);
			$who{$idx} = $from;
			if (ord($buf) == $INIT && length($buf) == $INIT_LEN) {
				send($down, forge($idx), 0, $from);
				print "forged\n";
			}
			send($up, $buf, 0);
		} elsif (!$only) {
			# RESP: receiver at 8; COOKIE: receiver at 4.
			my $rcv = ord($buf) == $RESP ? substr($buf, 8, 4) :
			    substr($buf, 4, 4);
			push @queue, [time + $ms / 1000, $buf, $who{$rcv}]
			    if $who{$rcv};
		}
	}
	while (@queue && $queue[0][0] <= time) {
		my $p = shift @queue;
		send($down, $p->[1], 0, $p->[2]);
	}
}
