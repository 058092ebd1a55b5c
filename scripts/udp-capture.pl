#!/usr/bin/perl
# udp-capture.pl PORT NODEPORT PREFIX [TYPE]: a front-door relay that
# records, for the system tests.  A UDP relay on 127.0.0.1:PORT to
# 127.0.0.1:NODEPORT: each client datagram goes on to the node from one
# socket, and each answer goes back to the client whose sender index it
# carries (RESP and RESUMED, types 2 and 5: receiver at offset 8; COOKIE:
# at 4), as a NAT keeps flows apart.  The client datagrams of type TYPE
# (default 4, RESUME; docs/PROTOCOL.md 4 and 14.2) are saved, the first 64
# of them, to the files PREFIX.1, PREFIX.2, ... (each appears whole, by a
# rename), and a line "TYPE N" is printed for each.  Loopback only; runs
# until it is killed.  Core Perl only.
use strict;
use warnings;
use IO::Handle;
use IO::Select;
use IO::Socket::INET;

@ARGV == 3 || @ARGV == 4 or
    die "usage: udp-capture.pl PORT NODEPORT PREFIX [TYPE]\n";
my ($port, $nport, $prefix, $type) = @ARGV;
$type = 4 unless defined $type;
my ($RESP, $RESUMED) = (2, 5);

my $down = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1',
    LocalPort => $port) or die "udp-capture: 127.0.0.1:$port: $!\n";
my $up = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1',
    PeerAddr => '127.0.0.1', PeerPort => $nport)
    or die "udp-capture: 127.0.0.1:$nport: $!\n";
my $sel = IO::Select->new($down, $up);
my %who;          # sender index => the client's address
my $saved = 0;
STDOUT->autoflush(1);

while (1) {
	for my $s ($sel->can_read) {
		my $buf;
		my $from = recv($s, $buf, 65536, 0);
		next unless defined $from;
		next if length($buf) < 12;
		if ($s == $down) {
			$who{substr($buf, 4, 4)} = $from;
			if (ord($buf) == $type && $saved < 64) {
				$saved++;
				if (open(my $f, '>:raw', "$prefix.tmp")) {
					print $f $buf;
					close $f;
					rename("$prefix.tmp", "$prefix.$saved");
				}
				print "$type $saved\n";
			}
			send($up, $buf, 0);
		} else {
			my $t = ord($buf);
			my $rcv = ($t == $RESP || $t == $RESUMED) ?
			    substr($buf, 8, 4) : substr($buf, 4, 4);
			send($down, $buf, 0, $who{$rcv}) if $who{$rcv};
		}
	}
}
