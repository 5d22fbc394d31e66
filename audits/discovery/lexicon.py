"""Common given names and surnames for the ``person_name`` value detector.

Lower case. Given names: the most frequent first names of the US Social Security
Administration's national baby-name lists, with frequent European, Latin-American, African and
Asian given names; surnames: the most frequent names of the US Census 2010 surname list and
frequent surnames of European, Latin-American, Asian and African countries. Short lists on
purpose: a value needs only its first or its last word in them, and the detector is evidence
next to the column name, not a verdict.
"""

from __future__ import annotations

GIVEN_NAMES: frozenset[str] = frozenset(
    """
    james john robert michael william david richard joseph thomas charles christopher daniel
    matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy
    ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott
    brandon benjamin samuel gregory alexander frank patrick raymond jack dennis jerry tyler aaron
    jose adam nathan henry douglas zachary peter kyle noah ethan jeremy walter christian keith
    roger terry austin sean gerald carl harold dylan arthur lawrence jordan jesse bryan billy
    bruce gabriel joe logan alan juan albert willie elijah wayne randy vincent mason roy ralph
    bobby russell bradley philip eugene liam oliver lucas leo hugo max ben tom jon sam dev kai
    mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty
    sandra margaret ashley kimberly emily donna michelle carol amanda melissa deborah stephanie
    dorothy rebecca sharon laura cynthia amy kathleen angela shirley brenda emma anna nicole
    helen samantha katherine christine debra rachel carolyn janet maria olivia heather diane
    julie joyce victoria ruth virginia lauren kelly christina joan evelyn judith andrea hannah
    megan cheryl jacqueline martha madison teresa gloria sara janice ann kathryn abigail sophia
    frances jean alice judy isabella julia grace amber denise danielle marilyn beverly charlotte
    natalie theresa diana brittany doris kayla alexis lori marie ava mia ella chloe zoe lily
    ada cleo emil fern gita ines lena milo nora omar pia quin rosa eva ida ole lars sven erik
    anders johan jan piotr pawel tomasz anna katarzyna agnieszka hans klaus jurgen uwe fritz
    karl heinz ursula ingrid greta francois pierre jean luc marc camille chloe manon lea louis
    giuseppe giovanni marco luca francesca giulia chiara alessandro matteo lorenzo carlos luis
    miguel javier pedro pablo sofia lucia carmen ana isabel joao tiago rafael gabriela beatriz
    mohammed muhammad ahmed ali hassan fatima aisha yusuf ibrahim amina chinedu ngozi emeka
    kwame kofi ama wei li ming hui yan hiroshi takeshi yuki haruto sakura kenji min ji soo raj
    priya arjun rahul anil sunita deepak vikram aditi ivan olga dmitri sergei natasha elena
    """.split()
)

SURNAMES: frozenset[str] = frozenset(
    """
    smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez
    gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris
    sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill
    flores green adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips
    evans turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook rogers
    gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson
    watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo
    sanders patel myers long ross foster jimenez muller mueller schmidt schneider fischer weber
    meyer wagner becker schulz hoffmann koch richter klein wolf neumann martin bernard dubois
    thomas robert richard petit durand leroy moreau simon laurent lefebvre michel rossi russo
    ferrari esposito bianchi romano colombo ricci marino greco bruno gallo conti costa silva
    santos oliveira souza pereira lima carvalho ferreira almeida novak nowak kowalski wisniewski
    wojcik kowalczyk kaminski horvat kovac jansen janssen de vries bakker visser smit berg lund
    hansen johansson andersson karlsson nilsson eriksson larsson olsen nielsen jensen tanaka
    suzuki sato takahashi watanabe ito yamamoto nakamura kobayashi wang li zhang liu chen yang
    huang zhao wu zhou park choi jung kang singh kumar sharma gupta khan ahmed ali hussain okafor
    okonkwo mensah boateng mwangi ivanov petrov smirnov popov murray obrien byrne ryan walsh
    """.split()
)
