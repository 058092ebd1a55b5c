#!/usr/bin/perl
# udp-delay.pl PORT NODEPORT MS: a slow path to a front door, for the demo
# and the system tests.  A UDP relay on 127.0.0.1:PORT to 127.0.0.1:NODEPORT
# that holds every datagram, both ways, for MS milliseconds, as a long
# network path would.  An answer goes back to the socket that sent the INIT
# it answers (by the index it carries, as a NAT keeps each flow apart), so
# an answer to a socket the client has closed is lost, as it would be.
# Loopback only; runs until it is killed.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

@ARGV == 3 or die "usage: udp-delay.pl PORT NODEPORT MS\n";
my ($port, $nport, $ms) = @ARGV;
my $down = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1',
    LocalPort => $port) or die "udp-delay: 127.0.0.1:$port: $!\n";
my $up = IO::Socket::INET->new(Proto => 'udp', PeerAddr => '127.0.0.1',
    PeerPort => $nport) or die "udp-delay: 127.0.0.1:$nport: $!\n";
my $sel = IO::Select->new($down, $up);
my (%who, @queue);    # sender index => client; [due, socket, datagram, to]

while (1) {
	my $wait = @queue ? $queue[0][0] - time : undef;
	$wait = 0 if defined $wait && $wait < 0;
	for my $s ($sel->can_read($wait)) {
		my $buf;
		my $from = recv($s, $buf, 65536, 0);
		next unless defined $from;
		next if length($buf) < 12;
		if ($s == $down) {
			$who{substr($buf, 4, 4)} = $from;
			push @queue, [time + $ms / 1000, $up, $buf, undef];
		} else {
			# RESP (type 2): receiver at 8; COOKIE: receiver at 4.
			my $rcv = ord($buf) == 2 ? substr($buf, 8, 4) : substr($buf, 4, 4);
			push @queue, [time + $ms / 1000, $down, $buf, $who{$rcv}]
			    if $who{$rcv};
		}
	}
	while (@queue && $queue[0][0] <= time) {
		my $p = shift @queue;
		if (defined $p->[3]) {
			send($p->[1], $p->[2], 0, $p->[3]);
		} else {
			send($p->[1], $p->[2], 0);
		}
	}
}
