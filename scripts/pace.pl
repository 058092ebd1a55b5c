#!/usr/bin/perl
# pace.pl RATE [SHAFILE [PROGRESS]]: copy stdin to stdout at RATE bytes a
# second at most, for the system tests, so that a transfer lasts long
# enough for what a test does to it meanwhile (a link cut, kills).  With
# SHAFILE, the SHA-256 (hex) of what it wrote goes there when stdin ends:
# the sending end's checksum.  With PROGRESS, that file holds the number
# of bytes written so far (replaced about every MiB, and at the end).
# Exits 1 if writing fails.
use strict;
use warnings;
use Digest::SHA;
use Time::HiRes qw(time sleep);

@ARGV >= 1 && $ARGV[0] =~ /^[1-9][0-9]*$/
    or die "usage: pace.pl RATE [SHAFILE [PROGRESS]]\n";
my ($rate, $shaf, $prog) = @ARGV;
$SIG{PIPE} = 'IGNORE';
my ($n, $buf, $t0, $next) = (0, '', time, 0);
my $d = Digest::SHA->new(256);

# put FILE TEXT: replace FILE's contents with TEXT at once (a rename).
sub put {
	my ($f, $s) = @_;
	open(my $h, '>', "$f.tmp") or die "pace: $f.tmp: $!\n";
	print $h $s;
	close $h;
	rename("$f.tmp", $f) or die "pace: $f: $!\n";
}

binmode STDIN;
binmode STDOUT;
while (my $k = sysread(STDIN, $buf, 65536)) {
	my $off = 0;
	while ($off < $k) {
		my $w = syswrite(STDOUT, $buf, $k - $off, $off);
		exit 1 unless defined $w;
		$off += $w;
	}
	$d->add($buf) if $shaf;
	$n += $k;
	if ($prog && $n >= $next) {
		put($prog, "$n\n");
		$next = $n + 1048576;
	}
	my $ahead = $n / $rate - (time - $t0);
	sleep($ahead) if $ahead > 0;
}
put($prog, "$n\n") if $prog;
put($shaf, $d->hexdigest . "\n") if $shaf;
exit 0;
