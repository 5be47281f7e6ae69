"""Parallel lexicon of the synthetic corpus: English, German, French, Italian, Spanish.

Every entry is one concept with its hand-checked word form in each language, so
sentences built from the same entries are exact translations of each other.
Agreement is handled by storing the forms a template needs:

* nouns carry their definite article in French, Italian and Spanish (hence
  their gender) and a gender letter in German, whose articles and adjective
  endings are derived (:func:`german_article`);
* adjectives carry masculine and feminine forms in the Romance languages, the
  German attributive form after a definite article, and the Spanish copula
  (``es`` or ``está``) they take;
* verbs are stored in the third person singular of the present tense.

French and Italian nouns never start with a vowel (or a mute ``h``), so no
article is elided (no ``l'``) and every text stays free of apostrophes.

Tags restrict which nouns a verb or an adjective may combine with, to keep the
sentences plausible (nobody eats a chair): a noun's tags are its kind
(``person``, ``animal``, ``thing``, ``food``, ``drink``) plus properties such
as ``open`` (can be opened) or ``hold`` (a container).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ADJECTIVES",
    "ADVERBS",
    "INTRANSITIVE_VERBS",
    "NOUNS",
    "PLACES",
    "TRANSITIVE_VERBS",
    "Adjective",
    "Noun",
    "Phrase",
    "Verb",
    "german_article",
    "romance_gender",
]

_LANGS = ("eng", "deu", "fra", "ita", "spa")
_ROMANCE_ARTICLES = {
    "fra": {"le": "m", "la": "f"},
    "ita": {"il": "m", "lo": "m", "la": "f"},
    "spa": {"el": "m", "la": "f"},
}
_GERMAN_ARTICLES = {
    "nom": {"m": "der", "f": "die", "n": "das"},
    "acc": {"m": "den", "f": "die", "n": "das"},
}


def romance_gender(noun_phrase: str, lang: str) -> str:
    """Returns ``m`` or ``f``: the gender shown by a Romance noun's article.

    Args:
        noun_phrase: Definite noun phrase such as ``la maison``.
        lang: ``fra``, ``ita`` or ``spa``.

    Raises:
        ValueError: If the phrase does not start with a known definite article.
    """
    article = noun_phrase.split(" ", 1)[0]
    try:
        return _ROMANCE_ARTICLES[lang][article]
    except KeyError:
        raise ValueError(
            f"{lang} noun without a definite article: {noun_phrase!r}"
        ) from None


def german_article(gender: str, case: str) -> str:
    """Returns the German definite article for a gender (m, f, n) and case."""
    return _GERMAN_ARTICLES[case][gender]


@dataclass(frozen=True)
class Noun:
    """A noun in every language.

    Attributes:
        forms: Language code to form: the bare noun for English and German,
            the noun with its definite article for French, Italian, Spanish.
        german_gender: ``m``, ``f`` or ``n``.
        tags: Kind of the noun and its properties.
    """

    forms: dict[str, str]
    german_gender: str
    tags: frozenset[str]

    def gender(self, lang: str) -> str:
        """Grammatical gender in ``lang`` (``m``, ``f`` or, in German, ``n``)."""
        if lang == "deu":
            return self.german_gender
        if lang == "eng":
            return "n"
        return romance_gender(self.forms[lang], lang)


@dataclass(frozen=True)
class Adjective:
    """An adjective in every language.

    Attributes:
        forms: Language code to ``(masculine, feminine)`` forms (English and
            German: the same form twice, the predicative one).
        german_attributive: German form after a definite article in the
            nominative singular (``rote`` in ``der rote ball``).
        spanish_copula: ``es`` or ``está``, the copula Spanish uses with it.
        attributive: Whether it may stand next to a noun in every language (it
            follows the noun in the Romance languages without changing meaning).
        tags: Noun tags it can describe.
    """

    forms: dict[str, tuple[str, str]]
    german_attributive: str
    spanish_copula: str
    attributive: bool
    tags: frozenset[str]


@dataclass(frozen=True)
class Verb:
    """A verb in the third person singular of the present tense.

    Attributes:
        forms: Language code to form (may be several words: ``se cache``).
        subject_tags: Noun tags its subject may have.
        object_tags: Noun tags its direct object may have (transitive verbs).
        locative: Whether ``<subject> <verb> <place>`` reads naturally.
    """

    forms: dict[str, str]
    subject_tags: frozenset[str]
    object_tags: frozenset[str]
    locative: bool


@dataclass(frozen=True)
class Phrase:
    """A fixed phrase (adverbial or place) in every language.

    Attributes:
        forms: Language code to phrase.
        tags: ``time`` for adverbs that fit after a direct object too.
    """

    forms: dict[str, str]
    tags: frozenset[str]


def _rows(table: str, num_columns: int) -> list[list[str]]:
    """Splits a ``|``-separated table into stripped cells.

    A line starting with ``|`` continues the row above it.

    Raises:
        ValueError: If a row does not have ``num_columns`` cells.
    """
    lines: list[str] = []
    for line in table.strip().splitlines():
        if line.lstrip().startswith("|"):
            lines[-1] += line
        else:
            lines.append(line)
    rows = []
    for line in lines:
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) != num_columns:
            raise ValueError(f"expected {num_columns} columns: {line!r}")
        rows.append(cells)
    return rows


def _forms(cells: list[str]) -> dict[str, str]:
    return dict(zip(_LANGS, cells, strict=True))


# english | german (gender word) | french | italian | spanish | tags
_NOUNS = """
man | m mann | le monsieur | il signore | el hombre | person
woman | f frau | la femme | la donna | la mujer | person
boy | m junge | le garçon | il ragazzo | el chico | person
girl | n mädchen | la fille | la ragazza | la chica | person
father | m vater | le père | il padre | el padre | person
mother | f mutter | la mère | la madre | la madre | person
brother | m bruder | le frère | il fratello | el hermano | person
sister | f schwester | la sœur | la sorella | la hermana | person
son | m sohn | le fils | il figlio | el hijo | person
aunt | f tante | la tante | la zia | la tía | person
baby | n baby | le bébé | il bebè | el bebé | person
doctor | m arzt | le médecin | il medico | el médico | person
teacher | m lehrer | le professeur | il professore | el profesor | person
cook | m koch | le cuisinier | il cuoco | el cocinero | person
driver | m fahrer | le chauffeur | il conducente | el conductor | person
farmer | m bauer | le fermier | il contadino | el granjero | person
baker | m bäcker | le boulanger | il fornaio | el panadero | person
king | m könig | le roi | il re | el rey | person
queen | f königin | la reine | la regina | la reina | person
neighbour | m nachbar | le voisin | il vicino | el vecino | person
soldier | m soldat | le soldat | il soldato | el soldado | person
police officer | m polizist | le policier | il poliziotto | el policía | person
waiter | m kellner | le serveur | il cameriere | el camarero | person
painter | m maler | le peintre | il pittore | el pintor | person
singer | m sänger | le chanteur | il cantante | el cantante | person
dancer | f tänzerin | la danseuse | la ballerina | la bailarina | person
pilot | m pilot | le pilote | il pilota | el piloto | person
fisherman | m fischer | le pêcheur | il pescatore | el pescador | person
tourist | m tourist | le touriste | il turista | el turista | person
boss | m chef | le patron | il capo | el jefe | person
customer | m kunde | le client | il cliente | el cliente | person
lady | f dame | la dame | la signora | la señora | person
thief | m dieb | le voleur | il ladro | el ladrón | person
prince | m prinz | le prince | il principe | el príncipe | person
princess | f prinzessin | la princesse | la principessa | la princesa | person
musician | m musiker | le musicien | il musicista | el músico | person
postman | m briefträger | le facteur | il postino | el cartero | person
gardener | m gärtner | le jardinier | il giardiniere | el jardinero | person
dog | m hund | le chien | il cane | el perro | animal
cat | f katze | le chat | il gatto | el gato | animal
horse | n pferd | le cheval | il cavallo | el caballo | animal
cow | f kuh | la vache | la mucca | la vaca | animal
pig | n schwein | le cochon | il maiale | el cerdo | animal
sheep | n schaf | le mouton | la pecora | la oveja | animal
goat | f ziege | la chèvre | la capra | la cabra | animal
mouse | f maus | la souris | il topo | el ratón | animal
rabbit | n kaninchen | le lapin | il coniglio | el conejo | animal
duck | f ente | le canard | la papera | el pato | animal fly
hen | f henne | la poule | la gallina | la gallina | animal
fish | m fisch | le poisson | il pesce | el pez | animal
wolf | m wolf | le loup | il lupo | el lobo | animal
fox | m fuchs | le renard | la volpe | el zorro | animal
lion | m löwe | le lion | il leone | el león | animal
tiger | m tiger | le tigre | la tigre | el tigre | animal
monkey | m affe | le singe | la scimmia | el mono | animal
frog | m frosch | la grenouille | la rana | la rana | animal
snake | f schlange | le serpent | il serpente | la serpiente | animal
camel | n kamel | le chameau | il cammello | el camello | animal
zebra | n zebra | le zèbre | la zebra | la cebra | animal
turtle | f schildkröte | la tortue | la tartaruga | la tortuga | animal
dolphin | m delfin | le dauphin | il delfino | el delfín | animal
whale | m wal | la baleine | la balena | la ballena | animal
parrot | m papagei | le perroquet | il pappagallo | el loro | animal fly
owl | f eule | le hibou | il gufo | el búho | animal fly
penguin | m pinguin | le manchot | il pinguino | el pingüino | animal
butterfly | m schmetterling | le papillon | la farfalla | la mariposa | animal fly
rat | f ratte | le rat | il ratto | la rata | animal
deer | m hirsch | le cerf | il cervo | el ciervo | animal
bull | m stier | le taureau | il toro | el toro | animal
kangaroo | n känguru | le kangourou | il canguro | el canguro | animal
giraffe | f giraffe | la girafe | la giraffa | la jirafa | animal
shark | m hai | le requin | lo squalo | el tiburón | animal
crow | f krähe | le corbeau | il corvo | el cuervo | animal fly
pigeon | f taube | le pigeon | il piccione | la paloma | animal fly
table | m tisch | la table | il tavolo | la mesa | thing build move paint
chair | m stuhl | la chaise | la sedia | la silla | thing build move paint fix break
door | f tür | la porte | la porta | la puerta | thing open paint
window | n fenster | la fenêtre | la finestra | la ventana | thing open break
book | n buch | le livre | il libro | el libro | thing read write open send
letter | m brief | la lettre | la lettera | la carta | thing read write send open
newspaper | f zeitung | le journal | il giornale | el periódico | thing read
map | f landkarte | la carte | la cartina | el mapa | thing read
box | f kiste | la boîte | la scatola | la caja | thing open hold move send paint
bottle | f flasche | la bouteille
    | la bottiglia | la botella | thing open hold break wash
bag | f tasche | le sac | la borsa | la bolsa | thing open hold
cup | f tasse | la tasse | la tazza | la taza | thing hold break wash
glass | n glas | le verre | il bicchiere | el vaso | thing hold break wash
knife | n messer | le couteau | il coltello | el cuchillo | thing sharp wash
fork | f gabel | la fourchette | la forchetta | el tenedor | thing wash
spoon | m löffel | la cuillère | il cucchiaio | la cuchara | thing wash
key | m schlüssel | la clé | la chiave | la llave | thing
phone | n telefon | le téléphone | il telefono | el teléfono | thing fix break
car | n auto | la voiture | la macchina | el coche | thing fix move vehicle paint wash
bicycle | n fahrrad | le vélo
    | la bicicletta | la bicicleta | thing fix move vehicle paint
boat | n boot | le bateau | la barca | el barco | thing build fix vehicle paint
train | m zug | le train | il treno | el tren | thing vehicle
ball | m ball | le ballon | il pallone | el balón | thing throw
lamp | f lampe | la lampe | la lampada | la lámpara | thing fix break
bed | n bett | le lit | il letto | la cama | thing build move
pen | m kugelschreiber | le stylo | la penna | el bolígrafo | thing
pencil | m bleistift | le crayon | la matita | el lápiz | thing sharp
paper | n papier | le papier | la carta | el papel | thing cut
picture | n bild | le tableau | il quadro | el cuadro | thing paint
shoe | m schuh | la chaussure | la scarpa | el zapato | thing wash
hat | m hut | le chapeau | il cappello | el sombrero | thing
coat | m mantel | le manteau | il cappotto | el abrigo | thing wash
shirt | n hemd | la chemise | la camicia | la camisa | thing wash
dress | n kleid | la robe | il vestito | el vestido | thing wash
ticket | f fahrkarte | le billet | il biglietto | el billete | thing
gift | n geschenk | le cadeau | il regalo | el regalo | thing send open
mirror | m spiegel | le miroir | lo specchio | el espejo | thing break
guitar | f gitarre | la guitare | la chitarra | la guitarra | thing fix
piano | n klavier | le piano | il pianoforte | el piano | thing fix move
radio | n radio | la radio | la radio | la radio | thing fix break
television | m fernseher | la télévision
    | il televisore | el televisor | thing fix break
basket | m korb | le panier | il cestino | la cesta | thing hold
bucket | m eimer | le seau | il secchio | el cubo | thing hold
stone | m stein | la pierre | la pietra | la piedra | thing throw
rope | n seil | la corde | la corda | la cuerda | thing cut
hammer | m hammer | le marteau | il martello | el martillo | thing
candle | f kerze | la bougie | la candela | la vela | thing
cushion | n kissen | le coussin | il cuscino | el cojín | thing wash
blanket | f decke | la couverture | la coperta | la manta | thing wash
soap | f seife | le savon | il sapone | el jabón | thing
wallet | f geldbörse | le portefeuille | il portafoglio | la cartera | thing
suitcase | m koffer | la valise | la valigia | la maleta | thing open hold
doll | f puppe | la poupée | la bambola | la muñeca | thing
toy | n spielzeug | le jouet | il giocattolo | el juguete | thing throw
flower | f blume | la fleur | il fiore | la flor | thing
plant | f pflanze | la plante | la pianta | la planta | thing
leaf | n blatt | la feuille | la foglia | la hoja | thing
pot | m topf | la casserole | la pentola | la olla | thing hold wash
pan | f pfanne | la poêle | la padella | la sartén | thing wash
stamp | f briefmarke | le timbre | il francobollo | el sello | thing
coin | f münze | la pièce | la moneta | la moneda | thing throw
necklace | f halskette | le collier | la collana | el collar | thing
wheel | n rad | la roue | la ruota | la rueda | thing fix
house | n haus | la maison | la casa | la casa | thing build paint
bridge | f brücke | le pont | il ponte | el puente | thing build
wall | f mauer | le mur | il muro | el muro | thing build paint
fence | m zaun | la clôture | la recinzione | la valla | thing build paint
bread | n brot | le pain | il pane | el pan | food cut
cheese | m käse | le fromage | il formaggio | el queso | food cut
apple | m apfel | la pomme | la mela | la manzana | food cut wash
banana | f banane | la banane | la banana | el plátano | food
cake | m kuchen | le gâteau | la torta | el pastel | food cut cook
soup | f suppe | la soupe | la minestra | la sopa | food cook
rice | m reis | le riz | il riso | el arroz | food cook
meat | n fleisch | la viande | la carne | la carne | food cut cook
potato | f kartoffel | la pomme de terre | la patata | la patata | food cut cook wash
tomato | f tomate | la tomate | il pomodoro | el tomate | food cut wash
carrot | f karotte | la carotte | la carota | la zanahoria | food cut cook wash
sausage | f wurst | la saucisse | la salsiccia | la salchicha | food cut cook
pizza | f pizza | la pizza | la pizza | la pizza | food cut cook
biscuit | m keks | le biscuit | il biscotto | la galleta | food
chocolate | f schokolade | le chocolat | il cioccolato | el chocolate | food
pear | f birne | la poire | la pera | la pera | food cut wash
lemon | f zitrone | le citron | il limone | el limón | food cut
cherry | f kirsche | la cerise | la ciliegia | la cereza | food wash
strawberry | f erdbeere | la fraise | la fragola | la fresa | food wash
butter | f butter | le beurre | il burro | la mantequilla | food
sugar | m zucker | le sucre | lo zucchero | el azúcar | food
salt | n salz | le sel | il sale | la sal | food
honey | m honig | le miel | il miele | la miel | food
melon | f melone | le melon | il melone | el melón | food cut
peach | m pfirsich | la pêche | la pesca | el melocotón | food cut wash
milk | f milch | le lait | il latte | la leche | drink
coffee | m kaffee | le café | il caffè | el café | drink
tea | m tee | le thé | il tè | el té | drink
juice | m saft | le jus | il succo | el zumo | drink
wine | m wein | le vin | il vino | el vino | drink
beer | n bier | la bière | la birra | la cerveza | drink
lemonade | f limonade | la limonade | la limonata | la limonada | drink
"""

# english | german | german attributive | spanish copula | attributive (y/-) | tags
#   | french m/f | italian m/f | spanish m/f
_ADJECTIVES = """
red | rot | rote | es | y | thing animal food
    | rouge/rouge | rosso/rossa | rojo/roja
blue | blau | blaue | es | y | thing animal
    | bleu/bleue | blu/blu | azul/azul
green | grün | grüne | es | y | thing animal food
    | vert/verte | verde/verde | verde/verde
yellow | gelb | gelbe | es | y | thing animal food
    | jaune/jaune | giallo/gialla | amarillo/amarilla
black | schwarz | schwarze | es | y | thing animal
    | noir/noire | nero/nera | negro/negra
white | weiß | weiße | es | y | thing animal
    | blanc/blanche | bianco/bianca | blanco/blanca
brown | braun | braune | es | y | thing animal
    | brun/brune | marrone/marrone | marrón/marrón
grey | grau | graue | es | y | thing animal
    | gris/grise | grigio/grigia | gris/gris
pink | rosa | rosa | es | y | thing animal
    | rose/rose | rosa/rosa | rosa/rosa
purple | lila | lila | es | y | thing
    | violet/violette | viola/viola | morado/morada
big | groß | große | es | - | person animal thing food
    | grand/grande | grande/grande | grande/grande
small | klein | kleine | es | - | person animal thing food
    | petit/petite | piccolo/piccola | pequeño/pequeña
long | lang | lange | es | - | thing
    | long/longue | lungo/lunga | largo/larga
short | kurz | kurze | es | - | thing
    | court/courte | corto/corta | corto/corta
round | rund | runde | es | y | thing food
    | rond/ronde | rotondo/rotonda | redondo/redonda
heavy | schwer | schwere | es | y | thing animal
    | lourd/lourde | pesante/pesante | pesado/pesada
light | leicht | leichte | es | y | thing
    | léger/légère | leggero/leggera | ligero/ligera
new | neu | neue | es | - | thing
    | nouveau/nouvelle | nuovo/nuova | nuevo/nueva
old | alt | alte | es | - | person animal thing
    | vieux/vieille | vecchio/vecchia | viejo/vieja
young | jung | junge | es | - | person animal
    | jeune/jeune | giovane/giovane | joven/joven
beautiful | schön | schöne | es | - | person animal thing
    | beau/belle | bello/bella | bonito/bonita
ugly | hässlich | hässliche | es | - | person animal thing
    | laid/laide | brutto/brutta | feo/fea
expensive | teuer | teure | es | y | thing food drink
    | cher/chère | caro/cara | caro/cara
fast | schnell | schnelle | es | y | person animal vehicle
    | rapide/rapide | veloce/veloce | rápido/rápida
slow | langsam | langsame | es | y | person animal vehicle
    | lent/lente | lento/lenta | lento/lenta
strong | stark | starke | es | y | person animal drink
    | fort/forte | forte/forte | fuerte/fuerte
weak | schwach | schwache | es | y | person animal
    | faible/faible | debole/debole | débil/débil
hot | heiß | heiße | está | y | food drink
    | chaud/chaude | caldo/calda | caliente/caliente
cold | kalt | kalte | está | y | food drink
    | froid/froide | freddo/fredda | frío/fría
clean | sauber | saubere | está | y | thing animal
    | propre/propre | pulito/pulita | limpio/limpia
dirty | schmutzig | schmutzige | está | y | thing animal
    | sale/sale | sporco/sporca | sucio/sucia
wet | nass | nasse | está | y | thing animal person
    | mouillé/mouillée | bagnato/bagnata | mojado/mojada
dry | trocken | trockene | está | y | thing
    | sec/sèche | secco/secca | seco/seca
full | voll | volle | está | y | hold
    | plein/pleine | pieno/piena | lleno/llena
empty | leer | leere | está | y | hold
    | vide/vide | vuoto/vuota | vacío/vacía
open | offen | offene | está | y | open
    | ouvert/ouverte | aperto/aperta | abierto/abierta
closed | geschlossen | geschlossene | está | y | open
    | fermé/fermée | chiuso/chiusa | cerrado/cerrada
broken | kaputt | kaputte | está | y | fix break
    | cassé/cassée | rotto/rotta | roto/rota
soft | weich | weiche | es | y | thing food
    | doux/douce | morbido/morbida | blando/blanda
hard | hart | harte | es | y | thing food
    | dur/dure | duro/dura | duro/dura
sweet | süß | süße | es | y | food drink
    | sucré/sucrée | dolce/dolce | dulce/dulce
sour | sauer | saure | es | y | food drink
    | acide/acide | acido/acida | ácido/ácida
salty | salzig | salzige | está | y | food
    | salé/salée | salato/salata | salado/salada
fresh | frisch | frische | está | y | food drink
    | frais/fraîche | fresco/fresca | fresco/fresca
delicious | lecker | leckere | está | y | food drink
    | délicieux/délicieuse | delizioso/deliziosa | delicioso/deliciosa
ripe | reif | reife | está | y | food
    | mûr/mûre | maturo/matura | maduro/madura
tired | müde | müde | está | y | person animal
    | fatigué/fatiguée | stanco/stanca | cansado/cansada
happy | glücklich | glückliche | está | y | person animal
    | heureux/heureuse | felice/felice | feliz/feliz
sad | traurig | traurige | está | y | person animal
    | triste/triste | triste/triste | triste/triste
angry | wütend | wütende | está | y | person animal
    | fâché/fâchée | arrabbiato/arrabbiata | enfadado/enfadada
sick | krank | kranke | está | y | person animal
    | malade/malade | malato/malata | enfermo/enferma
nervous | nervös | nervöse | está | y | person animal
    | nerveux/nerveuse | nervoso/nervosa | nervioso/nerviosa
calm | ruhig | ruhige | está | y | person animal
    | calme/calme | calmo/calma | tranquilo/tranquila
busy | beschäftigt | beschäftigte | está | y | person
    | occupé/occupée | occupato/occupata | ocupado/ocupada
ready | bereit | bereit | está | - | person
    | prêt/prête | pronto/pronta | listo/lista
quiet | leise | leise | es | y | person animal
    | silencieux/silencieuse | silenzioso/silenziosa | silencioso/silenciosa
loud | laut | laute | es | y | person animal
    | bruyant/bruyante | rumoroso/rumorosa | ruidoso/ruidosa
friendly | freundlich | freundliche | es | y | person animal
    | gentil/gentille | gentile/gentile | amable/amable
clever | klug | kluge | es | y | person animal
    | intelligent/intelligente | intelligente/intelligente | inteligente/inteligente
lazy | faul | faule | es | y | person animal
    | paresseux/paresseuse | pigro/pigra | perezoso/perezosa
brave | mutig | mutige | es | y | person animal
    | courageux/courageuse | coraggioso/coraggiosa | valiente/valiente
funny | lustig | lustige | es | y | person animal
    | drôle/drôle | divertente/divertente | gracioso/graciosa
shy | schüchtern | schüchterne | es | y | person animal
    | timide/timide | timido/timida | tímido/tímida
dangerous | gefährlich | gefährliche | es | y | animal sharp
    | dangereux/dangereuse | pericoloso/pericolosa | peligroso/peligrosa
wild | wild | wilde | es | y | animal
    | sauvage/sauvage | selvaggio/selvaggia | salvaje/salvaje
famous | berühmt | berühmte | es | y | person
    | célèbre/célèbre | famoso/famosa | famoso/famosa
rich | reich | reiche | es | y | person
    | riche/riche | ricco/ricca | rico/rica
poor | arm | arme | es | y | person
    | pauvre/pauvre | povero/povera | pobre/pobre
modern | modern | moderne | es | y | thing
    | moderne/moderne | moderno/moderna | moderno/moderna
dark | dunkel | dunkle | es | y | thing
    | sombre/sombre | scuro/scura | oscuro/oscura
sharp | scharf | scharfe | está | y | sharp
    | tranchant/tranchante | affilato/affilata | afilado/afilada
huge | riesig | riesige | es | y | animal thing
    | énorme/énorme | enorme/enorme | enorme/enorme
tiny | winzig | winzige | es | y | animal thing
    | minuscule/minuscule | minuscolo/minuscola | diminuto/diminuta
strange | seltsam | seltsame | es | y | person animal thing
    | bizarre/bizarre | strano/strana | raro/rara
"""

# english | german | french | italian | spanish | subject tags | locative (y/-)
_INTRANSITIVE_VERBS = """
sleeps | schläft | dort | dorme | duerme | person animal | y
runs | läuft | court | corre | corre | person animal | y
swims | schwimmt | nage | nuota | nada | person animal | -
sings | singt | chante | canta | canta | person | y
dances | tanzt | danse | balla | baila | person | y
laughs | lacht | rit | ride | ríe | person | y
cries | weint | pleure | piange | llora | person | y
eats | isst | mange | mangia | come | person animal | y
drinks | trinkt | boit | beve | bebe | person animal | y
waits | wartet | attend | aspetta | espera | person animal | y
works | arbeitet | travaille | lavora | trabaja | person | y
plays | spielt | joue | gioca | juega | person animal | y
reads | liest | lit | legge | lee | person | y
writes | schreibt | écrit | scrive | escribe | person | y
cooks | kocht | cuisine | cucina | cocina | person | y
jumps | springt | saute | salta | salta | person animal | y
talks | spricht | parle | parla | habla | person | y
thinks | denkt | pense | pensa | piensa | person | -
learns | lernt | apprend | impara | aprende | person | y
travels | reist | voyage | viaggia | viaja | person | -
smiles | lächelt | sourit | sorride | sonríe | person | -
shouts | schreit | crie | grida | grita | person | y
climbs | klettert | grimpe | si arrampica | trepa | person animal | -
falls | fällt | tombe | cade | cae | person animal | -
drives | fährt | conduit | guida | conduce | person | -
flies | fliegt | vole | vola | vuela | fly | -
whistles | pfeift | siffle | fischia | silba | person | y
hides | versteckt sich | se cache | si nasconde | se esconde | person animal | y
wins | gewinnt | gagne | vince | gana | person | -
loses | verliert | perd | perde | pierde | person | -
comes | kommt | vient | viene | viene | person animal | -
leaves | geht | part | parte | se va | person animal | -
rests | ruht | se repose | riposa | descansa | person animal | y
paints | malt | peint | dipinge | pinta | person | y
"""

# english | german | french | italian | spanish | object tags
_TRANSITIVE_VERBS = """
sees | sieht | voit | vede | ve | thing food drink
buys | kauft | achète | compra | compra | thing food drink
sells | verkauft | vend | vende | vende | thing food drink
eats | isst | mange | mangia | come | food
cooks | kocht | cuisine | cucina | cocina | cook
drinks | trinkt | boit | beve | bebe | drink
orders | bestellt | commande | ordina | pide | food drink
cuts | schneidet | coupe | taglia | corta | cut
wants | will | veut | vuole | quiere | thing food drink
finds | findet | trouve | trova | encuentra | thing
loses | verliert | perd | perde | pierde | thing
carries | trägt | porte | porta | lleva | thing
takes | nimmt | prend | prende | toma | thing food drink
holds | hält | tient | tiene | sostiene | thing
shows | zeigt | montre | mostra | muestra | thing
opens | öffnet | ouvre | apre | abre | open
closes | schließt | ferme | chiude | cierra | open
washes | wäscht | lave | lava | lava | wash
cleans | putzt | nettoie | pulisce | limpia | thing
paints | malt | peint | dipinge | pinta | paint
draws | zeichnet | dessine | disegna | dibuja | thing food
reads | liest | lit | legge | lee | read
writes | schreibt | écrit | scrive | escribe | write
repairs | repariert | répare | ripara | repara | fix
breaks | zerbricht | casse | rompe | rompe | break
forgets | vergisst | oublie | dimentica | olvida | thing
looks for | sucht | cherche | cerca | busca | thing
uses | benutzt | utilise | usa | usa | thing
hides | versteckt | cache | nasconde | esconde | thing
throws | wirft | lance | lancia | lanza | throw
sends | schickt | envoie | manda | envía | send
receives | bekommt | reçoit | riceve | recibe | send
builds | baut | construit | costruisce | construye | build
touches | berührt | touche | tocca | toca | thing
pushes | schiebt | pousse | spinge | empuja | move
pulls | zieht | tire | tira | tira | move
fills | füllt | remplit | riempie | llena | hold
checks | prüft | vérifie | controlla | revisa | thing
has | hat | a | ha | tiene | thing food drink
"""

# english | german | french | italian | spanish | tags
_ADVERBS = """
now | jetzt | maintenant | adesso | ahora | time
tomorrow | morgen | demain | domani | mañana | time
this morning | heute morgen | ce matin | stamattina | esta mañana | time
tonight | heute abend | ce soir | stasera | esta noche | time
every day | jeden tag | chaque jour | ogni giorno | cada día | time
every week | jede woche | chaque semaine | ogni settimana | cada semana | time
in the morning | am morgen | le matin | la mattina | por la mañana | time
at night | in der nacht | la nuit | di notte | por la noche | time
at noon | am mittag | à midi | a mezzogiorno | al mediodía | time
on monday | am montag | lundi | lunedì | el lunes | time
on tuesday | am dienstag | mardi | martedì | el martes | time
on wednesday | am mittwoch | mercredi | mercoledì | el miércoles | time
on thursday | am donnerstag | jeudi | giovedì | el jueves | time
on friday | am freitag | vendredi | venerdì | el viernes | time
on saturday | am samstag | samedi | sabato | el sábado | time
on sunday | am sonntag | dimanche | domenica | el domingo | time
in the summer | im sommer | en été | in estate | en verano | time
in the winter | im winter | en hiver | in inverno | en invierno | time
in the spring | im frühling | au printemps | in primavera | en primavera | time
again | wieder | encore | di nuovo | otra vez | time
often | oft | souvent | spesso | a menudo | time
sometimes | manchmal | parfois | a volte | a veces | time
rarely | selten | rarement | raramente | raramente | time
early | früh | tôt | presto | temprano | manner
late | spät | tard | tardi | tarde | manner
slowly | langsam | lentement | lentamente | despacio | manner
quickly | schnell | vite | velocemente | rápidamente | manner
well | gut | bien | bene | bien | manner
a lot | viel | beaucoup | molto | mucho | manner
quietly | leise | doucement | piano | en silencio | manner
outside | draußen | dehors | fuori | fuera | manner
here | hier | ici | qui | aquí | manner
at home | zu hause | à la maison | a casa | en casa | manner
"""

# english | german | french | italian | spanish | tags
_PLACES = """
in the garden | im garten | dans le jardin | nel giardino | en el jardín | place
in the kitchen | in der küche | dans la cuisine | in cucina | en la cocina | place
in the house | im haus | dans la maison | nella casa | en la casa | place
in the park | im park | dans le parc | nel parco | en el parque | place
in the street | auf der straße | dans la rue | in strada | en la calle | place
in the forest | im wald | dans la forêt | nel bosco | en el bosque | place
in the city | in der stadt | dans la ville | in città | en la ciudad | place
at the office | im büro | au bureau | in ufficio | en la oficina | place
in the shop | im laden | dans le magasin | nel negozio | en la tienda | place
at the station | am bahnhof | à la gare | alla stazione | en la estación | place
on the beach | am strand | sur la plage | sulla spiaggia | en la playa | place
in the mountains | in den bergen | à la montagne | in montagna | en la montaña | place
at the lake | am see | au lac | al lago | en el lago | place
in the library | in der bibliothek | à la bibliothèque
    | in biblioteca | en la biblioteca | place
at the restaurant | im restaurant | au restaurant
    | al ristorante | en el restaurante | place
at the market | auf dem markt | au marché | al mercato | en el mercado | place
in the bathroom | im bad | dans la salle de bain | in bagno | en el baño | place
in the bedroom | im schlafzimmer | dans la chambre
    | in camera | en el dormitorio | place
in the car | im auto | dans la voiture | in macchina | en el coche | place
on the train | im zug | dans le train | sul treno | en el tren | place
in the village | im dorf | au village | nel villaggio | en el pueblo | place
in the field | auf dem feld | dans le champ | nel campo | en el campo | place
in the sea | im meer | dans la mer | nel mare | en el mar | place
at the museum | im museum | au musée | al museo | en el museo | place
at the zoo | im zoo | au zoo | allo zoo | en el zoo | place
at work | bei der arbeit | au travail | al lavoro | en el trabajo | place
at the bakery | in der bäckerei | à la boulangerie
    | in panetteria | en la panadería | place
on the farm | auf dem bauernhof | à la ferme | in fattoria | en la granja | place
at the cinema | im kino | au cinéma | al cinema | en el cine | place
"""


def _parse_nouns() -> tuple[Noun, ...]:
    nouns = []
    for eng, deu, fra, ita, spa, tags in _rows(_NOUNS, 6):
        gender, word = deu.split(" ", 1)
        nouns.append(
            Noun(
                forms=_forms([eng, word, fra, ita, spa]),
                german_gender=gender,
                tags=frozenset(tags.split()),
            )
        )
    return tuple(nouns)


def _parse_adjectives() -> tuple[Adjective, ...]:
    adjectives = []
    for row in _rows(_ADJECTIVES, 9):
        eng, deu, deu_attr, copula, attributive, tags, fra, ita, spa = row
        forms: dict[str, tuple[str, str]] = {"eng": (eng, eng), "deu": (deu, deu)}
        for lang, pair in (("fra", fra), ("ita", ita), ("spa", spa)):
            masculine, feminine = pair.split("/")
            forms[lang] = (masculine, feminine)
        adjectives.append(
            Adjective(
                forms=forms,
                german_attributive=deu_attr,
                spanish_copula=copula,
                attributive=attributive == "y",
                tags=frozenset(tags.split()),
            )
        )
    return tuple(adjectives)


def _parse_verbs(table: str, transitive: bool) -> tuple[Verb, ...]:
    verbs = []
    for row in _rows(table, 6 if transitive else 7):
        forms = _forms(row[:5])
        if transitive:
            subject_tags, object_tags, locative = "person", row[5], "y"
        else:
            subject_tags, object_tags, locative = row[5], "", row[6]
        verbs.append(
            Verb(
                forms=forms,
                subject_tags=frozenset(subject_tags.split()),
                object_tags=frozenset(object_tags.split()),
                locative=locative == "y",
            )
        )
    return tuple(verbs)


def _parse_phrases(table: str) -> tuple[Phrase, ...]:
    return tuple(
        Phrase(forms=_forms(row[:5]), tags=frozenset(row[5].split()))
        for row in _rows(table, 6)
    )


NOUNS: tuple[Noun, ...] = _parse_nouns()
"""People, animals, things, food and drinks."""

ADJECTIVES: tuple[Adjective, ...] = _parse_adjectives()
"""Adjectives with their agreement forms."""

INTRANSITIVE_VERBS: tuple[Verb, ...] = _parse_verbs(_INTRANSITIVE_VERBS, False)
"""Verbs used without an object; their subject is a person or an animal."""

TRANSITIVE_VERBS: tuple[Verb, ...] = _parse_verbs(_TRANSITIVE_VERBS, True)
"""Verbs taking a person as subject and an inanimate direct object."""

ADVERBS: tuple[Phrase, ...] = _parse_phrases(_ADVERBS)
"""Adverbials that end a sentence; ``time`` ones also fit after an object."""

PLACES: tuple[Phrase, ...] = _parse_phrases(_PLACES)
"""Place adverbials (``in the garden``), with the preposition and article."""
